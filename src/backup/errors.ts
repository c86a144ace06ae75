/**
 * The one error backup and restore stop with: what is wrong (the file, key or store, the value, what is
 * allowed) and the command or step that fixes it. Nothing on the host has been changed when it is thrown
 * before a step runs; a step that fails says which store it left in which state.
 */
export class BackupError extends Error {
  constructor(
    message: string,
    /** The command line that fixes it, or the most concrete next step. */
    readonly fix: string,
  ) {
    super(message);
    this.name = "BackupError";
  }
}
