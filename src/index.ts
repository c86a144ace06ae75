// The Pulumi entry point: load → plan → deploy → export outputs.
import { deployStack } from "./deploy/program";

const outputs = deployStack();
export const gatewayUrl = outputs.gatewayUrl;
export const servedModel = outputs.servedModel;
export const gpuMap = outputs.gpuMap;
export const capacity = outputs.capacity;
export const vllmArgs = outputs.vllmArgs;
export const network = outputs.network;
export const smokeTest = outputs.smokeTest;
export const gatewayMasterKey = outputs.gatewayMasterKey;
export const lastGoodConfig = outputs.lastGoodConfig;
