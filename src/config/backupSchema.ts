/**
 * `llmstack:backup`: a scheduled backup of the stack's data stores, run by containers on the stack network
 * (src/plan/backupSchedule.ts). Absent: no scheduled backup, and no container for it.
 */
import { z } from "zod";

/** A daily time in UTC, "HH:MM" on a 24-hour clock: the one schedule form a stack file may give. */
export const DAILY_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** The time between two scheduled backups: one a day. */
export const BACKUP_INTERVAL_SECONDS = 24 * 60 * 60;

/** The port the scheduler serves its metrics on, on the stack network (Prometheus's backup job). */
export const BACKUP_METRICS_PORT = 9477;

export const backupSchema = z
  .strictObject({
    schedule: z
      .string()
      .regex(DAILY_TIME, {
        message: 'must be a daily time in UTC as "HH:MM" on a 24-hour clock, such as "03:30"; no other schedule form is read',
      })
      .describe('The time of day, UTC, "HH:MM" (24-hour clock), at which the backup runs every day'),
    keep: z
      .number()
      .int({ message: "must be a whole number of backups, 1 or more" })
      .min(1, { message: "must be 1 or more: the newest complete backup is always kept" })
      .describe("How many complete backups are kept; older complete ones are deleted after each new one"),
    to: z
      .string()
      .regex(/^\/[^\0\n]*$/, { message: "must be an absolute directory path on the Docker host, such as /srv/llmstack-backups" })
      .refine((p) => !p.split("/").includes(".."), { message: 'must not contain ".." parts' })
      .refine((p) => p.replace(/\/+$/, "") !== "", { message: "must be a directory below /, not / itself" })
      .describe("The directory on the Docker host the backups are written to (bind-mounted into the backup containers)"),
  })
  .describe("A scheduled backup of Postgres, Redis, Qdrant and the object store (docs/operations.md, Scheduled backups)");

export type BackupConfig = z.infer<typeof backupSchema>;

/** The schedule's hour and minute. */
export function dailyTime(schedule: string): { readonly hour: number; readonly minute: number } {
  const m = DAILY_TIME.exec(schedule);
  if (m === null) throw new Error(`schedule ${schedule} is not HH:MM`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}
