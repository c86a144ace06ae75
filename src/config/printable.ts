/**
 * Text from outside (an nvidia-smi capture, a stack file, a host's probe output, container logs) is shown
 * with its control characters escaped, so it cannot drive the terminal: no ANSI/OSC escape sequences
 * (ECMA-48 ESC and the 8-bit C1 controls, U+0080–U+009F), no bell, backspace or carriage return that
 * rewrites what is on screen, and no Unicode bidirectional controls that reorder it (Unicode TR9).
 * Tab and newline stay. Each escaped character is written `\uXXXX`, which also keeps JSON valid.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
