/**
 * The llmstack CrossGuard pack: `pulumi preview --policy-pack policy`. The rules are in ./rules.ts,
 * their wiring in ./policies.ts.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("llmstack", { policies });
