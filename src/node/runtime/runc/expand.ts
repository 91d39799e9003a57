// Kubernetes' `$(VAR)` expansion (third_party/forked/golang/expansion), used for a container's
// command, args and env values: `$$` is a literal `$`, a reference to a name the mapping lacks is
// left as written, and an unterminated `$(` is kept verbatim.

/** Expands `$(NAME)` in `input` from `vars`. */
export function expand(input: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    if (next === '$') {
      out += '$';
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close === -1) {
        // Incomplete reference: emit `$(` and carry on scanning after it.
        out += '$(';
      } else {
        const name = input.slice(cursor + 2, close);
        out += vars.get(name) ?? `$(${name})`;
        cursor = close - 1;
      }
    } else {
      out += '$' + next;
    }
    cursor += 1;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
