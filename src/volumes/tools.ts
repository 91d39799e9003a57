// Runs the host's filesystem and network tools (e2fsprogs, util-linux, iproute2). They live in
// sbin, which a non-login PATH can lack, so sbin is searched too; a missing tool names its package.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const PACKAGES: Readonly<Record<string, string>> = {
  'mkfs.ext4': 'e2fsprogs',
  e2fsck: 'e2fsprogs',
  resize2fs: 'e2fsprogs',
  dumpe2fs: 'e2fsprogs',
  losetup: 'util-linux',
  ip: 'iproute2',
  mount: 'mount',
  umount: 'mount',
  mknod: 'coreutils',
  setfattr: 'attr',
  runc: 'runc',
  iptables: 'iptables',
};

/** The tool's full path, or undefined when it is not installed. */
export function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

export class ToolError extends Error {
  constructor(
    message: string,
    /** The exit code, or undefined when the tool could not be run at all. */
    readonly exitCode?: number,
  ) {
    super(message);
  }
}

export interface ToolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs `name args`; a non-zero exit not listed in `okExitCodes` throws a ToolError carrying
 * the tool's stderr, so callers report what the tool said.
 */
export async function runTool(name: string, args: string[], okExitCodes: readonly number[] = [0]): Promise<ToolResult> {
  const path = findTool(name);
  if (path === undefined) {
    const pkg = PACKAGES[name];
    throw new ToolError(`${name} is not installed${pkg ? ` (install the ${pkg} package)` : ''}`);
  }
  try {
    const { stdout, stderr } = await execFileAsync(path, args, { encoding: 'utf8' });
    return { stdout, stderr, exitCode: 0 };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code === 'number') {
      const result = { stdout: e.stdout ?? '', stderr: e.stderr ?? '', exitCode: e.code };
      if (okExitCodes.includes(e.code)) return result;
      const said = (result.stderr || result.stdout).trim();
      throw new ToolError(`${name} ${args.join(' ')} exited with ${e.code}${said ? `: ${said}` : ''}`, e.code);
    }
    throw new ToolError(`${name} could not be run: ${e.message}`);
  }
}
