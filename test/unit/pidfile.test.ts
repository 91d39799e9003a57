import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimPidFile, pidFile, runningBerth } from '../../src/cli/pidfile.js';

const withDir = (fn: (dir: string) => Promise<void> | void) => async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pidfile-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

test('berth up names itself in berth.pid and removes it on release', withDir((dir) => {
  const release = claimPidFile(dir);
  assert.equal(Number(readFileSync(pidFile(dir), 'utf8')), process.pid);
  release();
  assert.equal(existsSync(pidFile(dir)), false);
}));

test('a pid file left by a dead process, or naming a process that is no berth up, is taken over', withDir(async (dir) => {
  const dead = spawnSync('true').pid;
  writeFileSync(pidFile(dir), `${dead}\n`);
  assert.equal(runningBerth(dir), undefined);
  claimPidFile(dir)();
  const other = spawn('sleep', ['30']);
  try {
    writeFileSync(pidFile(dir), `${other.pid}\n`);
    assert.equal(runningBerth(dir), undefined);
    claimPidFile(dir)();
  } finally {
    other.kill();
  }
}));

test('a live berth up on the data dir makes a second one refuse', withDir(async (dir) => {
  // A process whose command line holds `up`, as `berth up`'s does.
  const up = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', 'up']);
  try {
    await new Promise((r) => up.once('spawn', r));
    await new Promise((r) => setTimeout(r, 100));
    writeFileSync(pidFile(dir), `${up.pid}\n`);
    assert.equal(runningBerth(dir), up.pid);
    assert.throws(() => claimPidFile(dir), new RegExp(`another berth \\(pid ${up.pid}\\) is running on ${dir}; stop it first \\(berth down --data-dir ${dir}\\)`));
    assert.equal(Number(readFileSync(pidFile(dir), 'utf8')), up.pid);
  } finally {
    up.kill();
  }
}));
