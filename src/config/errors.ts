/**
 * What a StackConfigError is about, so the command line can name the command that fixes it:
 * - `config`: a key's value, or a rule across keys (the default);
 * - `no-stack-file`: `Pulumi.<stack>.yaml` does not exist;
 * - `no-project-file`: `Pulumi.yaml` is not in the directory;
 * - `plaintext`: a credential stored in plain text (the message names the command per key).
 */
export type StackConfigErrorKind = "config" | "no-stack-file" | "no-project-file" | "plaintext";

/** A stack file that does not describe a stack we can deploy. The message names the file and key. */
export class StackConfigError extends Error {
  constructor(
    message: string,
    readonly kind: StackConfigErrorKind = "config",
    /** For no-project-file: the directory that has no Pulumi.yaml. */
    readonly dir?: string,
  ) {
    super(message);
    this.name = "StackConfigError";
  }
}
