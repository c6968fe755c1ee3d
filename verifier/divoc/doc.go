// Package divoc verifies CoWIN (DIVOC) vaccination certificates, India's
// format, offline.
//
// # Format
//
// The QR code carries the raw bytes of a ZIP archive holding one file,
// certificate.json: a W3C Verifiable Credential in JSON-LD (contexts
// https://www.w3.org/2018/credentials/v1 and
// https://cowin.gov.in/credentials/vaccination/v1 or /v2) with an
// RsaSignature2018 proof: a detached JWS with the header
// {"alg":"PS256","b64":false,"crit":["b64"]}. The signing input is
// base64url(header) + "." followed by the raw bytes of
// SHA-256(URDNA2015(proof options)) and SHA-256(URDNA2015(document without
// proof)), where the proof options are the proof without "jws" and with
// "@context": "https://w3id.org/security/v2". The signature is RSASSA-PSS
// with SHA-256 and a 32-byte salt (every real signature examined uses
// exactly that; other salt lengths are refused).
//
// Verify accepts the ZIP bytes (as a QR reader returns them: a reader that
// yields text must map it back byte for byte, e.g. ISO-8859-1 rune → byte)
// or certificate.json itself.
//
// # What is checked, in order
//
//  1. ZIP: at most MaxZIPSize bytes; exactly one regular, unencrypted,
//     stored or deflated entry named exactly certificate.json, whose local
//     header starts the archive and agrees with the central directory; at
//     most MaxCertificateSize bytes inflated (zip bombs stop there); CRC.
//  2. JSON: one object, no duplicate keys (parsers disagree on which wins),
//     bounded depth.
//  3. Shape: JSON objects only where CoWIN has them (subject, its address,
//     1–4 evidence entries with verifier, facility and facility address,
//     proof); no JSON-LD keywords but the top-level @context; bounded arrays
//     and strings. This bounds URDNA2015, whose work grows factorially with
//     alike blank nodes.
//  4. @context: exactly the credentials context and one CoWIN context. The
//     JSON-LD document loader serves only the five contexts bundled in the
//     binary (credentials v1, CoWIN v1 and v2, security v1 and v2) and
//     refuses every other URL: verification never touches the network.
//  5. JSON-LD: expansion in safe mode, so a member no context defines is an
//     error (jsonld_unknown_term) rather than data silently left out of the
//     signature; every node id must be an absolute IRI (relative_id: a
//     relative credentialSubject id drops name, age and gender out of the
//     signed data), blank-node ids are refused, http(s) ids must pass
//     json-gold's URL check (it drops statements about invalid ones:
//     invalid_iri), member names must be terms (not IRIs), and every type
//     must be defined. Ids with spaces, as India issued them ("did:Voter ID:…"),
//     are absolute IRIs and accepted.
//  6. Proof: RsaSignature2018, assertionMethod, the exact JWS header, no
//     other members; then the signature (below). As a backstop, every value
//     the result shows must appear as a statement, with its member's
//     predicate, in the signed canonical form (unsigned_data).
//  7. Plausibility of what the signature cannot pin down. In the CoWIN
//     contexts dose and totalDoses share one predicate, as do date,
//     effectiveStart and effectiveUntil, and as do vaccine, manufacturer,
//     batch and certificateId; such values can be swapped without breaking
//     the signature. So: dose ≤ totalDoses (a booster written as
//     dose > totalDoses is therefore refused: the signature cannot tell it
//     from a swapped "dose 1 of 2"); vaccine from a list of known vaccines
//     and manufacturer from a list of known makers; certificateId numeric
//     and equal to the number in the evidence IRI (which is signed on its
//     own); effectiveStart ≤ effectiveUntil; vaccination date not after the
//     issuance date; issuance, signing, vaccination and birth dates not in
//     the future (24 hours of clock and time-zone slack).
//
// # Trust
//
// Keys live in <trustDir>/did/, one JSON file per key written by ImportKey
// (`vaxverify trust import --did did:india --name "…" KEY.pem`). A
// certificate's proof names its key by DID only (CoWIN has one key,
// did:india, and no key id), so every trusted key of that DID is tried.
//
// The Government of India production key is built in and trusted by
// default. To stop trusting it, create <trustDir>/did/did-india.disabled
// (DisableBuiltin does); delete the file to trust it again. A key imported
// explicitly is trusted whatever the marker says.
//
// DIVOC's development key, whose private key is published, is built in as
// a known but untrusted key, so that certificates signed with it are
// reported for what they are. Importing it (for tests) makes it trusted.
//
// # Outcome
//
// VALID: the signature verifies with a trusted key and nothing is wrong.
// NOT TRUSTED (reason key_unknown): nothing is wrong but the signature
// verifies only with a known untrusted key, or no key of the proof's DID is
// trusted, so it cannot be checked. INVALID: anything else, including a
// signature that verifies with none of the trusted keys of its DID
// (signature_invalid). A rejection always makes the result INVALID, even
// when the key is not trusted. Subject, doses and certificate ID are filled
// whenever they can be read, so the person checking sees what an invalid or
// untrusted certificate claims; they are vouched for only when VALID.
// Revocation is not checked: CoWIN publishes
// no signed offline revocation list.
//
// # Reason codes
//
// Rejections: zip_invalid, zip_too_large, input_too_large, json_invalid,
// certificate_malformed, jsonld_context_unknown, jsonld_unknown_term,
// jsonld_invalid, relative_id, invalid_iri, proof_missing, proof_unsupported,
// signature_invalid, unsigned_data, key_unknown (not trusted), trust_store_error,
// implausible_dose, implausible_vaccine, implausible_manufacturer,
// implausible_certificate_id, implausible_date.
// Warnings: partial_vaccination, vaccine_manufacturer_mismatch,
// manufacturer_missing, date_missing.
package divoc
