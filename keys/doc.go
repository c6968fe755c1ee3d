// Package keys holds the service's signing keys: a file keystore of ES256 (ECDSA P-256) keys, the
// Signer that the issuer signs with, the key states active/retired/revoked, rotation, the public
// JWKS, and the small random server secrets (HMAC keys).
//
// # On disk
//
// A FileStore directory holds, per key, two files named after the key's kid (its RFC 7638 JWK
// thumbprint, base64url, 43 characters, so it is safe as a file name):
//
//	<kid>.pem   the private key, PKCS#8 PEM ("PRIVATE KEY", or "ENCRYPTED PRIVATE KEY" when the
//	            store has a passphrase: PBES2 = PBKDF2-HMAC-SHA256 + AES-256-CBC, RFC 8018,
//	            readable by `openssl pkcs8`)
//	<kid>.json  public metadata: {"kid","state","created"} plus the time of the last state change
//
// Every file is written atomically (temporary file in the same directory, fsync, rename, fsync of
// the directory) with mode 0600, so a crash never leaves a half-written key, and a process that
// reads the directory at any moment sees either the old or the new file. The key file is written
// before its metadata; a key file without metadata is a creation that has not finished (or crashed)
// and is ignored, so a CLI that rotates while the server reloads never makes the server fail. Files
// are never deleted: a revoked key stays on disk, withdrawn from the JWKS and unable to sign.
//
// Any file of the store that grants group or other access, and a directory that group or others
// may write into, is refused with a one-line error naming it; so is a corrupt file, a key whose kid
// does not match its file name, and an encrypted key that cannot be decrypted with the passphrase
// given. Errors never contain key material.
//
// # Concurrency
//
// A FileStore is safe for concurrent use. Reads (ActiveSigner, Lookup, List, JWKS) take no lock: they
// read an immutable snapshot that mutations and Reload replace. Several processes may share the
// directory (the server and the `vaxcert keys` CLI); the server sees the CLI's changes on its next
// Reload. Two processes mutating at the very same moment are not coordinated by a lock; because each
// file is replaced atomically the worst outcome is two active keys, which is valid (the newest signs)
// and is resolved by the next Rotate.
package keys
