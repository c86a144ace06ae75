/** The project's root directory. Its own module, so a test that needs only the path loads no Pulumi SDK. */
import { join } from "node:path";

export const ROOT = join(__dirname, "..", "..");
