#ifndef GOVOFFICE_XMLSECSHIM_H
#define GOVOFFICE_XMLSECSHIM_H

#include <stddef.h>
#include <stdint.h>
#include "../../CXMLSec/shim.h"

/* Everything XMLSecurity needs from xmlsec1 that Swift cannot call directly (transform ids are
   macros over functions, xmlFree is a global function pointer, OpenSSL method tables need C
   callbacks), plus the signing and verifying sequences themselves, kept in C so that no xmlsec
   struct layout is read from Swift. */

/* ---- Set-up ---------------------------------------------------------------------------------- */

/* Initialises libxml2, xmlsec1 and its OpenSSL back end once per process (pthread_once); safe to
   call from any thread, any number of times. Returns 0 when ready, -1 when xmlsec1 could not be
   initialised (then every call fails the same way). */
int govx_init(void);

/* Transform ids (macros in the xmlsec headers). */
xmlSecTransformId govx_transform_exc_c14n(void);
xmlSecTransformId govx_transform_exc_c14n_with_comments(void);
xmlSecTransformId govx_transform_enveloped(void);
xmlSecTransformId govx_transform_rsa_sha256(void);
xmlSecTransformId govx_transform_rsa_sha1(void);
xmlSecTransformId govx_transform_ecdsa_sha256(void);
xmlSecTransformId govx_transform_sha256(void);
xmlSecTransformId govx_transform_sha1(void);
xmlSecKeyDataId govx_key_data_x509(void);

/* Frees memory allocated by libxml2 or xmlsec1 (both use xmlFree). NULL is ignored. */
void govx_free(void *pointer);

/* ---- Parsing --------------------------------------------------------------------------------- */

/* Result of govx_parse. `doc` is owned by the caller (xmlFreeDoc) when not NULL. */
typedef struct {
    xmlDocPtr doc;
    /* The last element named (parent_local_name, parent_namespace) and how many there were. */
    xmlNodePtr parent;
    int parent_count;
    /* Byte offset just past the '>' that closes `parent` (its end tag, or its start tag when the
       element is empty), -1 when unknown. */
    long parent_end;
    /* libxml2's first error message when `doc` is NULL (owned by the result, govx_parse_result_free). */
    char *error;
} govx_parse_result;

/* Parses `bytes` with libxml2 (`options`, no SAX replaced but end-element, which records where the
   wanted parent element ends). The caller has already pre-scanned the input (XMLKit): this parse
   adds no safety check of its own. `parent_local_name` may be NULL (nothing is recorded). */
govx_parse_result govx_parse(const char *bytes, int length, int options,
                             const char *parent_local_name, const char *parent_namespace);
/* Frees the error message of a parse result (not the document). */
void govx_parse_result_free(govx_parse_result *result);

/* ---- Signing --------------------------------------------------------------------------------- */

/* Signs a SHA-256 digest (32 bytes) with the caller's key. Writes at most `capacity` bytes to
   `signature` and their number to `length`; returns 1 on success, 0 on failure (the caller keeps
   its own error in `context`). RSA: the PKCS#1 v1.5 signature; ECDSA P-256: raw r ‖ s. */
typedef int (*govx_sign_callback)(void *context, const uint8_t *digest, size_t digest_length,
                                  uint8_t *signature, size_t capacity, size_t *length);

enum {
    GOVX_SCHEME_RSA_SHA256 = 1,
    GOVX_SCHEME_ECDSA_P256_SHA256 = 2,
};

enum {
    GOVX_OK = 0,
    /* The public key (SubjectPublicKeyInfo DER) could not be read or is not RSA / EC P-256. */
    GOVX_ERR_KEY = 1,
    /* A certificate could not be read (DER). */
    GOVX_ERR_CERTIFICATE = 2,
    /* The signer certificate's public key is not the signing key's public key. */
    GOVX_ERR_KEY_MISMATCH = 3,
    /* The signing callback failed (its error is in the caller's context). */
    GOVX_ERR_CALLBACK = 4,
    /* xmlsec1 or OpenSSL failed (message in the error buffer). */
    GOVX_ERR_XMLSEC = 5,
    /* Verification: the signature or a reference digest does not match. */
    GOVX_ERR_INVALID = 6,
    /* Verification: no key usable with the SignatureMethod could be taken from KeyInfo. */
    GOVX_ERR_KEY_NOT_FOUND = 7,
};

/* Appends an enveloped signature (Reference URI="", enveloped + exclusive C14N, SHA-256 digest,
   KeyInfo/X509Data with every certificate, signer first) as the last child of `parent`, signs it
   with `callback`, and returns the serialised Signature element (no formatting) in `*signature_xml`
   (free with govx_free). `certificates[0]` is the signer's certificate. On failure returns a GOVX_ERR
   code and writes a message to `error` (NUL-terminated, at most `error_capacity` bytes). */
int govx_sign(xmlDocPtr doc, xmlNodePtr parent, int scheme,
              const uint8_t *public_key_der, size_t public_key_length,
              const uint8_t *const *certificates, const size_t *certificate_lengths, size_t certificate_count,
              govx_sign_callback callback, void *context,
              xmlChar **signature_xml, int *signature_length,
              char *error, size_t error_capacity);

/* ---- Verifying ------------------------------------------------------------------------------- */

/* Verifies the Signature element `signature` of `doc`: only Reference URI="" is accepted, only
   X509Data is read from KeyInfo and the certificates are NOT verified (trust is decided by the
   caller). On success (GOVX_OK) `*signer_der` receives the DER of the certificate whose key
   verified the signature (free with govx_free). Otherwise returns GOVX_ERR_INVALID,
   GOVX_ERR_KEY_NOT_FOUND or GOVX_ERR_XMLSEC with a message in `error`. */
int govx_verify(xmlDocPtr doc, xmlNodePtr signature,
                uint8_t **signer_der, int *signer_length,
                char *error, size_t error_capacity);

/* Key type of a DER certificate: 1 RSA, 2 EC P-256, 3 anything else, 0 unreadable. */
int govx_certificate_key_type(const uint8_t *der, size_t length);

#endif
