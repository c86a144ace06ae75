/**
 * Redis's own reading of a config file, rewritten line for line from redis/redis src/config.c
 * (loadServerConfigFromString: split at "\n", trim " \t\r\n", skip "#" and blank lines) and src/sds.c
 * (sdssplitargs: double quotes with \xHH, \n \r \t \b \a and \<any>; single quotes with \'; a closing
 * quote must be followed by a space or the end). Works on bytes, as Redis does. Returns each directive's
 * arguments, or the error Redis would stop with.
 */
const isSpace = (b: number | undefined): boolean =>
  b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0b || b === 0x0c || b === 0x0d;
const isHex = (b: number | undefined): boolean => b !== undefined && /^[0-9a-fA-F]$/.test(String.fromCharCode(b));

/** sdssplitargs on one line; null where Redis returns NULL (unbalanced quotes). */
export function sdssplitargs(line: Uint8Array): Uint8Array[] | null {
  const args: Uint8Array[] = [];
  let p = 0;
  const at = (i: number): number | undefined => (i < line.length ? line[i] : undefined);
  for (;;) {
    while (at(p) !== undefined && isSpace(at(p))) p++;
    if (at(p) === undefined) return args;
    const cur: number[] = [];
    let inq = false;
    let insq = false;
    let done = false;
    while (!done) {
      const c = at(p);
      if (inq || insq) {
        if (inq && c === 0x5c && at(p + 1) === 0x78 && isHex(at(p + 2)) && isHex(at(p + 3))) {
          cur.push(parseInt(String.fromCharCode(at(p + 2)!, at(p + 3)!), 16));
          p += 3;
        } else if (inq && c === 0x5c && at(p + 1) !== undefined) {
          p++;
          const e = at(p)!;
          const map: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x61: 0x07 };
          cur.push(map[e] ?? e);
        } else if (insq && c === 0x5c && at(p + 1) === 0x27) {
          p++;
          cur.push(0x27);
        } else if (c === (inq ? 0x22 : 0x27)) {
          // The closing quote must be followed by a space or the end.
          if (at(p + 1) !== undefined && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === undefined) {
          return null; // unterminated quotes
        } else {
          cur.push(c);
        }
      } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === undefined) {
        done = true;
      } else if (c === 0x22) {
        inq = true;
      } else if (c === 0x27) {
        insq = true;
      } else {
        cur.push(c);
      }
      if (at(p) !== undefined) p++;
    }
    args.push(Uint8Array.from(cur));
  }
}

const TRIM = new Set([0x20, 0x09, 0x0d, 0x0a]);

/** Every directive of a redis.conf as strings (UTF-8), or the error Redis stops with. */
export function readRedisConf(text: string): { directives: string[][] } | { error: string } {
  const bytes = new TextEncoder().encode(text);
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      lines.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  const directives: string[][] = [];
  for (const raw of lines) {
    let a = 0;
    let b = raw.length;
    while (a < b && TRIM.has(raw[a]!)) a++;
    while (b > a && TRIM.has(raw[b - 1]!)) b--;
    const line = raw.subarray(a, b);
    if (line.length === 0 || line[0] === 0x23) continue;
    const args = sdssplitargs(line);
    if (args === null) return { error: "Unbalanced quotes in configuration line" };
    if (args.length === 0) continue;
    directives.push(args.map((x) => new TextDecoder().decode(x)));
  }
  return { directives };
}
