import { createCipheriv, randomBytes } from "node:crypto";

/**
 * A `secure:` value as Pulumi's passphrase provider writes it: `v1:<nonce>:<ciphertext+tag>`, base64,
 * AES-256-GCM with a fresh random 12-byte nonce per encryption (`symmetricCrypter.EncryptValue` in
 * pulumi/pulumi sdk/go/common/resource/config/crypt.go). Encrypting the same value twice gives two
 * different ciphertexts, as it does with Pulumi.
 */
export function pulumiCiphertext(plaintext: string, key: Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const sealed = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `v1:${nonce.toString("base64")}:${sealed.toString("base64")}`;
}
