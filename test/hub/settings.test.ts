/**
 * The cache directory, endpoint, token and offline switch come from the environment with
 * huggingface_hub's precedence (constants.py and utils/_auth.py at v1.28.0).
 */
import { describe, expect, it } from "vitest";
import { hubSettings } from "../../src/hub";

describe("where the Hugging Face cache is", () => {
  it.each([
    ["HF_HUB_CACHE first", { HF_HUB_CACHE: "/a", HUGGINGFACE_HUB_CACHE: "/b", HF_HOME: "/c", HOME: "/h" }, "/a"],
    ["then the legacy HUGGINGFACE_HUB_CACHE", { HUGGINGFACE_HUB_CACHE: "/b", HF_HOME: "/c", HOME: "/h" }, "/b"],
    ["then $HF_HOME/hub", { HF_HOME: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" }, "/c/hub"],
    ["then $XDG_CACHE_HOME/huggingface/hub", { XDG_CACHE_HOME: "/x", HOME: "/h" }, "/x/huggingface/hub"],
    ["then ~/.cache/huggingface/hub", { HOME: "/h" }, "/h/.cache/huggingface/hub"],
    ["a leading ~ is the home directory", { HF_HOME: "~/hf", HOME: "/h" }, "/h/hf/hub"],
    ["an empty variable counts as unset", { HF_HUB_CACHE: "", HOME: "/h" }, "/h/.cache/huggingface/hub"],
    ["none without any of them", {}, null],
  ])("%s", (_, env, cacheDir) => {
    expect(hubSettings(env).cacheDir).toBe(cacheDir);
  });
});

describe("how the Hub is reached", () => {
  it("defaults to https://huggingface.co with no token, online, 10 s per request", () => {
    expect(hubSettings({})).toEqual({
      cacheDir: null,
      endpoint: "https://huggingface.co",
      token: null,
      offlineBy: null,
      timeoutMs: 10_000,
    });
  });

  it("takes HF_ENDPOINT without its trailing slash, HF_TOKEN before HUGGING_FACE_HUB_TOKEN, HF_HUB_DOWNLOAD_TIMEOUT", () => {
    const s = hubSettings({
      HF_ENDPOINT: "https://hf-mirror.example/",
      HF_TOKEN: " hf_a\n",
      HUGGING_FACE_HUB_TOKEN: "hf_b",
      HF_HUB_DOWNLOAD_TIMEOUT: "30",
    });
    expect([s.endpoint, s.token, s.timeoutMs]).toEqual(["https://hf-mirror.example", "hf_a", 30_000]);
    expect(hubSettings({ HUGGING_FACE_HUB_TOKEN: "hf_b" }).token).toBe("hf_b");
  });

  it.each([
    [{ HF_HUB_OFFLINE: "1" }, "HF_HUB_OFFLINE"],
    [{ HF_HUB_OFFLINE: "yes" }, "HF_HUB_OFFLINE"],
    [{ HF_HUB_OFFLINE: "True" }, "HF_HUB_OFFLINE"],
    [{ TRANSFORMERS_OFFLINE: "ON" }, "TRANSFORMERS_OFFLINE"],
    [{ HF_HUB_OFFLINE: "0" }, null],
    [{ HF_HUB_OFFLINE: "false" }, null],
  ])("offline for %j: %s", (env, by) => {
    expect(hubSettings(env).offlineBy).toBe(by);
  });

  it("refuses an HF_ENDPOINT that is not an http(s) URL", () => {
    expect(() => hubSettings({ HF_ENDPOINT: "huggingface.co" })).toThrow(
      'HF_ENDPOINT "huggingface.co" is not an http(s) URL; set it to the Hub or a mirror, e.g. https://huggingface.co, or unset it',
    );
  });
});
