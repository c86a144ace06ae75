/** A stack file that does not describe a stack we can deploy. The message names the file and key. */
export class StackConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackConfigError";
  }
}
