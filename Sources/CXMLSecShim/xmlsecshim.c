/* The RSA_METHOD / EC_KEY_METHOD API is deprecated in OpenSSL 3 but is still the way to make an
   EVP_PKEY whose private operation runs elsewhere (here: in Swift, then maybe on a PKCS#11 token)
   that xmlsec1 1.2 can use; the deprecation warnings are silenced for this file only. */
#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED
#endif

#include "xmlsecshim.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <libxml/parserInternals.h>
#include <libxml/xmlsave.h>

/* ---- Set-up ---------------------------------------------------------------------------------- */

static pthread_once_t govx_once = PTHREAD_ONCE_INIT;
static int govx_init_status = -1;
static int govx_rsa_index = -1;
static int govx_ec_index = -1;
static RSA_METHOD *govx_rsa_method = NULL;
static EC_KEY_METHOD *govx_ec_method = NULL;

/* xmlsec1 reports errors through one process-wide callback; each thread keeps its own first error
   so that concurrent calls do not mix messages. */
static __thread char govx_thread_error[512];
static __thread int govx_thread_error_set = 0;

static void govx_error_callback(const char *file, int line, const char *func, const char *errorObject,
                                const char *errorSubject, int reason, const char *msg) {
    (void)file;
    (void)line;
    if (govx_thread_error_set) {
        return;
    }
    const char *reasonText = xmlSecErrorsGetMsg((xmlSecSize)0);
    for (xmlSecSize i = 0; xmlSecErrorsGetMsg(i) != NULL; ++i) {
        if (xmlSecErrorsGetCode(i) == reason) {
            reasonText = xmlSecErrorsGetMsg(i);
            break;
        }
    }
    snprintf(govx_thread_error, sizeof(govx_thread_error), "%s%s%s: %s%s%s",
             func != NULL ? func : "xmlsec",
             errorObject != NULL ? " " : "", errorObject != NULL ? errorObject : "",
             reasonText != NULL ? reasonText : "error",
             msg != NULL ? " - " : "", msg != NULL ? msg : "");
    (void)errorSubject;
    govx_thread_error_set = 1;
}

static void govx_reset_error(void) {
    govx_thread_error[0] = 0;
    govx_thread_error_set = 0;
}

static void govx_report(char *error, size_t capacity, const char *what) {
    if (error == NULL || capacity == 0) {
        return;
    }
    if (govx_thread_error_set) {
        snprintf(error, capacity, "%s (%s)", what, govx_thread_error);
    } else {
        snprintf(error, capacity, "%s", what);
    }
}

static int govx_rsa_sign(int type, const unsigned char *m, unsigned int m_length,
                         unsigned char *sigret, unsigned int *siglen, const RSA *rsa);
static int govx_ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
                        unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *eckey);
static ECDSA_SIG *govx_ec_sign_sig(const unsigned char *dgst, int dgst_len, const BIGNUM *in_kinv,
                                   const BIGNUM *in_r, EC_KEY *eckey);

static xmlSecTransformKlass govx_rsa_sha256_klass;
static xmlSecTransformKlass govx_ecdsa_sha256_klass;

static void govx_init_once(void) {
    xmlInitParser();
    if (xmlSecInit() < 0) {
        return;
    }
    /* Ahead of xmlsec1's own transforms for the same URIs (see "Signature transforms"). */
    if (xmlSecTransformIdsRegister(&govx_rsa_sha256_klass) < 0 || xmlSecTransformIdsRegister(&govx_ecdsa_sha256_klass) < 0) {
        return;
    }
    if (xmlSecCheckVersion() != 1) {
        return;
    }
    if (xmlSecOpenSSLAppInit(NULL) < 0) {
        return;
    }
    if (xmlSecOpenSSLInit() < 0) {
        return;
    }
    xmlSecErrorsSetCallback(govx_error_callback);

    govx_rsa_index = RSA_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    govx_ec_index = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    if (govx_rsa_index < 0 || govx_ec_index < 0) {
        return;
    }
    /* Public operations (never used for signing) stay OpenSSL's own; only signing is redirected. */
    govx_rsa_method = RSA_meth_dup(RSA_PKCS1_OpenSSL());
    if (govx_rsa_method == NULL) {
        return;
    }
    RSA_meth_set1_name(govx_rsa_method, "GovOffice SigningKey");
    RSA_meth_set_sign(govx_rsa_method, govx_rsa_sign);
    /* The private key is external: OpenSSL and xmlsec1 must not look for `d`. */
    RSA_meth_set_flags(govx_rsa_method, RSA_meth_get_flags(govx_rsa_method) | RSA_FLAG_EXT_PKEY);

    govx_ec_method = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
    if (govx_ec_method == NULL) {
        return;
    }
    EC_KEY_METHOD_set_sign(govx_ec_method, govx_ec_sign, NULL, govx_ec_sign_sig);
    govx_init_status = 0;
}

int govx_init(void) {
    if (pthread_once(&govx_once, govx_init_once) != 0) {
        return -1;
    }
    return govx_init_status;
}

xmlSecTransformId govx_transform_exc_c14n(void) { return xmlSecTransformExclC14NId; }
xmlSecTransformId govx_transform_exc_c14n_with_comments(void) { return xmlSecTransformExclC14NWithCommentsId; }
xmlSecTransformId govx_transform_enveloped(void) { return xmlSecTransformEnvelopedId; }
xmlSecTransformId govx_transform_rsa_sha256(void) { return xmlSecTransformRsaSha256Id; }
xmlSecTransformId govx_transform_rsa_sha1(void) { return xmlSecTransformRsaSha1Id; }
xmlSecTransformId govx_transform_ecdsa_sha256(void) { return xmlSecTransformEcdsaSha256Id; }
xmlSecTransformId govx_transform_sha256(void) { return xmlSecTransformSha256Id; }
xmlSecTransformId govx_transform_sha1(void) { return xmlSecTransformSha1Id; }
xmlSecKeyDataId govx_key_data_x509(void) { return xmlSecKeyDataX509Id; }

void govx_free(void *pointer) {
    if (pointer != NULL) {
        xmlFree(pointer);
    }
}

/* ---- Parsing --------------------------------------------------------------------------------- */

typedef struct {
    const xmlChar *local_name;
    const xmlChar *namespace_uri;
    endElementNsSAX2Func original;
    xmlNodePtr parent;
    int parent_count;
    long parent_end;
} govx_parse_state;

static void govx_end_element(void *context, const xmlChar *localname, const xmlChar *prefix, const xmlChar *URI) {
    xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr)context;
    govx_parse_state *state = (govx_parse_state *)ctxt->_private;
    xmlNodePtr closing = ctxt->node;
    if (state->original != NULL) {
        state->original(context, localname, prefix, URI);
    }
    if (state->local_name == NULL || !xmlStrEqual(localname, state->local_name)) {
        return;
    }
    int sameNamespace = state->namespace_uri == NULL ? URI == NULL : xmlStrEqual(URI, state->namespace_uri);
    if (!sameNamespace) {
        return;
    }
    state->parent_count += 1;
    state->parent = closing;
    /* The end tag has just been consumed (libxml2 calls endElementNs after the '>'), so the bytes
       consumed so far end exactly there. The input is UTF-8 without an encoder, so this is a byte
       offset into the caller's buffer. */
    state->parent_end = xmlByteConsumed(ctxt);
}

static void govx_discard_structured_error(void *context, xmlErrorPtr error) {
    (void)context;
    (void)error;
}

govx_parse_result govx_parse(const char *bytes, int length, int options,
                             const char *parent_local_name, const char *parent_namespace) {
    govx_parse_result result = { NULL, NULL, 0, -1, NULL };
    govx_parse_state state = { (const xmlChar *)parent_local_name, (const xmlChar *)parent_namespace, NULL, NULL, 0, -1 };
    xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(bytes, length);
    if (ctxt == NULL) {
        result.error = strdup("libxml2 could not create a parser");
        return result;
    }
    xmlCtxtUseOptions(ctxt, options);
    if (ctxt->sax != NULL) {
        state.original = ctxt->sax->endElementNs;
        ctxt->sax->endElementNs = govx_end_element;
        ctxt->sax->serror = govx_discard_structured_error;
    }
    ctxt->_private = &state;
    xmlParseDocument(ctxt);
    if (ctxt->wellFormed && ctxt->nsWellFormed && ctxt->myDoc != NULL) {
        result.doc = ctxt->myDoc;
        result.parent = state.parent;
        result.parent_count = state.parent_count;
        result.parent_end = state.parent_end;
    } else {
        const char *message = ctxt->lastError.message;
        char buffer[600];
        snprintf(buffer, sizeof(buffer), "%s (line %d)", message != NULL ? message : "not well-formed", ctxt->lastError.line);
        size_t end = strlen(buffer);
        while (end > 0 && (buffer[end - 1] == '\n' || buffer[end - 1] == ' ')) {
            buffer[--end] = 0;
        }
        result.error = strdup(buffer);
        if (ctxt->myDoc != NULL) {
            xmlFreeDoc(ctxt->myDoc);
        }
    }
    ctxt->myDoc = NULL;
    ctxt->_private = NULL;
    xmlFreeParserCtxt(ctxt);
    return result;
}

void govx_parse_result_free(govx_parse_result *result) {
    if (result != NULL && result->error != NULL) {
        free(result->error);
        result->error = NULL;
    }
}

/* ---- The callback key ------------------------------------------------------------------------ */

typedef struct {
    govx_sign_callback callback;
    void *context;
    int called;
    int failed;
} govx_signer;

static int govx_rsa_sign(int type, const unsigned char *m, unsigned int m_length,
                         unsigned char *sigret, unsigned int *siglen, const RSA *rsa) {
    govx_signer *signer = (govx_signer *)RSA_get_ex_data(rsa, govx_rsa_index);
    if (signer == NULL || type != NID_sha256 || m_length != 32) {
        return 0;
    }
    signer->called = 1;
    size_t capacity = (size_t)RSA_size(rsa);
    size_t length = 0;
    if (!signer->callback(signer->context, m, m_length, sigret, capacity, &length) || length == 0 || length > capacity) {
        signer->failed = 1;
        return 0;
    }
    /* A token may return the signature without its leading zero bytes. */
    if (length < capacity) {
        memmove(sigret + (capacity - length), sigret, length);
        memset(sigret, 0, capacity - length);
    }
    *siglen = (unsigned int)capacity;
    return 1;
}

static ECDSA_SIG *govx_ec_sign_sig(const unsigned char *dgst, int dgst_len, const BIGNUM *in_kinv,
                                   const BIGNUM *in_r, EC_KEY *eckey) {
    (void)in_kinv;
    (void)in_r;
    govx_signer *signer = (govx_signer *)EC_KEY_get_ex_data(eckey, govx_ec_index);
    if (signer == NULL || dgst_len != 32) {
        return NULL;
    }
    signer->called = 1;
    unsigned char raw[64];
    size_t length = 0;
    if (!signer->callback(signer->context, dgst, (size_t)dgst_len, raw, sizeof(raw), &length) || length != 64) {
        signer->failed = 1;
        return NULL;
    }
    BIGNUM *r = BN_bin2bn(raw, 32, NULL);
    BIGNUM *s = BN_bin2bn(raw + 32, 32, NULL);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    if (r == NULL || s == NULL || sig == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        signer->failed = 1;
        return NULL;
    }
    return sig;
}

/* Whole-digest signing entry of the EC method (ECDSA_sign): DER-encodes what sign_sig returns. */
static int govx_ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
                        unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *eckey) {
    (void)type;
    ECDSA_SIG *s = govx_ec_sign_sig(dgst, dlen, kinv, r, eckey);
    if (s == NULL) {
        *siglen = 0;
        return 0;
    }
    int length = i2d_ECDSA_SIG(s, &sig);
    ECDSA_SIG_free(s);
    if (length <= 0) {
        *siglen = 0;
        return 0;
    }
    *siglen = (unsigned int)length;
    return 1;
}

/* An EVP_PKEY with the public half of `public_key` whose signing calls `signer`. */
static EVP_PKEY *govx_callback_pkey(EVP_PKEY *public_key, int scheme, govx_signer *signer) {
    EVP_PKEY *pkey = NULL;
    if (scheme == GOVX_SCHEME_RSA_SHA256) {
        const RSA *source = EVP_PKEY_get0_RSA(public_key);
        if (source == NULL) {
            return NULL;
        }
        const BIGNUM *n = NULL, *e = NULL;
        RSA_get0_key(source, &n, &e, NULL);
        RSA *rsa = RSA_new();
        BIGNUM *nCopy = BN_dup(n), *eCopy = BN_dup(e);
        if (rsa == NULL || nCopy == NULL || eCopy == NULL || RSA_set0_key(rsa, nCopy, eCopy, NULL) != 1) {
            BN_free(nCopy);
            BN_free(eCopy);
            RSA_free(rsa);
            return NULL;
        }
        RSA_set_method(rsa, govx_rsa_method);
        RSA_set_flags(rsa, RSA_FLAG_EXT_PKEY);
        RSA_set_ex_data(rsa, govx_rsa_index, signer);
        pkey = EVP_PKEY_new();
        if (pkey == NULL || EVP_PKEY_assign_RSA(pkey, rsa) != 1) {
            RSA_free(rsa);
            EVP_PKEY_free(pkey);
            return NULL;
        }
    } else if (scheme == GOVX_SCHEME_ECDSA_P256_SHA256) {
        const EC_KEY *source = EVP_PKEY_get0_EC_KEY(public_key);
        if (source == NULL) {
            return NULL;
        }
        const EC_GROUP *group = EC_KEY_get0_group(source);
        if (group == NULL || EC_GROUP_get_curve_name(group) != NID_X9_62_prime256v1) {
            return NULL;
        }
        EC_KEY *ec = EC_KEY_new();
        if (ec == NULL || EC_KEY_set_method(ec, govx_ec_method) != 1 || EC_KEY_set_group(ec, group) != 1
            || EC_KEY_set_public_key(ec, EC_KEY_get0_public_key(source)) != 1) {
            EC_KEY_free(ec);
            return NULL;
        }
        EC_KEY_set_ex_data(ec, govx_ec_index, signer);
        pkey = EVP_PKEY_new();
        if (pkey == NULL || EVP_PKEY_assign_EC_KEY(pkey, ec) != 1) {
            EC_KEY_free(ec);
            EVP_PKEY_free(pkey);
            return NULL;
        }
    }
    return pkey;
}

/* ---- Signature transforms ----------------------------------------------------------------------
   xmlsec1 1.2.37 built for OpenSSL 3 asks the key for provider parameters around signing (the RSA
   private exponent to decide the key is private, the EC group order to size r and s). A key whose
   private half is elsewhere (the callback key) is a "foreign" legacy key that has neither, so
   xmlsec1's own rsa-sha256 / ecdsa-sha256 transforms refuse it. These two transforms, with the same
   names and URIs, are registered ahead of xmlsec1's (xmlsec1 looks transforms up by URI in its
   global list, first match wins), so they serve both directions:
   - signing: SHA-256 of the canonical SignedInfo, signed through the key's OpenSSL method
     (RSA_sign / ECDSA_do_sign, which reach govx_rsa_sign / govx_ec_sign_sig, then Swift);
   - verifying: EVP_PKEY_verify with the certificate's ordinary OpenSSL key (PKCS#1 v1.5 with
     SHA-256; ECDSA with r ‖ s re-encoded as the DER ECDSA-Sig-Value OpenSSL expects).
   rsa-sha1 (legacy, verification only) stays xmlsec1's own transform. */

typedef struct {
    EVP_MD_CTX *digest;
    EVP_PKEY *key;
    int ec;
    unsigned char value[32];
    int has_value;
} govx_signature_ctx;

#define GOVX_SIGNATURE_CTX(transform) \
    ((govx_signature_ctx *)(((xmlSecByte *)(transform)) + sizeof(xmlSecTransform)))

static int govx_signature_initialize(xmlSecTransformPtr transform);
static void govx_signature_finalize(xmlSecTransformPtr transform);
static int govx_signature_set_key_req(xmlSecTransformPtr transform, xmlSecKeyReqPtr keyReq);
static int govx_signature_set_key(xmlSecTransformPtr transform, xmlSecKeyPtr key);
static int govx_signature_verify(xmlSecTransformPtr transform, const xmlSecByte *data, xmlSecSize dataSize,
                                 xmlSecTransformCtxPtr transformCtx);
static int govx_signature_execute(xmlSecTransformPtr transform, int last, xmlSecTransformCtxPtr transformCtx);

static xmlSecTransformKlass govx_rsa_sha256_klass = {
    sizeof(xmlSecTransformKlass),
    sizeof(xmlSecTransform) + sizeof(govx_signature_ctx),
    xmlSecNameRsaSha256,
    xmlSecHrefRsaSha256,
    xmlSecTransformUsageSignatureMethod,
    govx_signature_initialize,
    govx_signature_finalize,
    NULL,
    NULL,
    govx_signature_set_key_req,
    govx_signature_set_key,
    govx_signature_verify,
    xmlSecTransformDefaultGetDataType,
    xmlSecTransformDefaultPushBin,
    xmlSecTransformDefaultPopBin,
    NULL,
    NULL,
    govx_signature_execute,
    NULL,
    NULL,
};

static xmlSecTransformKlass govx_ecdsa_sha256_klass = {
    sizeof(xmlSecTransformKlass),
    sizeof(xmlSecTransform) + sizeof(govx_signature_ctx),
    xmlSecNameEcdsaSha256,
    xmlSecHrefEcdsaSha256,
    xmlSecTransformUsageSignatureMethod,
    govx_signature_initialize,
    govx_signature_finalize,
    NULL,
    NULL,
    govx_signature_set_key_req,
    govx_signature_set_key,
    govx_signature_verify,
    xmlSecTransformDefaultGetDataType,
    xmlSecTransformDefaultPushBin,
    xmlSecTransformDefaultPopBin,
    NULL,
    NULL,
    govx_signature_execute,
    NULL,
    NULL,
};

static int govx_signature_initialize(xmlSecTransformPtr transform) {
    govx_signature_ctx *ctx = GOVX_SIGNATURE_CTX(transform);
    memset(ctx, 0, sizeof(*ctx));
    ctx->ec = transform->id == &govx_ecdsa_sha256_klass;
    ctx->digest = EVP_MD_CTX_new();
    if (ctx->digest == NULL || EVP_DigestInit_ex(ctx->digest, EVP_sha256(), NULL) != 1) {
        return -1;
    }
    return 0;
}

static void govx_signature_finalize(xmlSecTransformPtr transform) {
    govx_signature_ctx *ctx = GOVX_SIGNATURE_CTX(transform);
    EVP_MD_CTX_free(ctx->digest);
    EVP_PKEY_free(ctx->key);
    memset(ctx, 0, sizeof(*ctx));
}

static int govx_signature_set_key_req(xmlSecTransformPtr transform, xmlSecKeyReqPtr keyReq) {
    govx_signature_ctx *ctx = GOVX_SIGNATURE_CTX(transform);
    keyReq->keyId = ctx->ec ? xmlSecOpenSSLKeyDataEcdsaId : xmlSecOpenSSLKeyDataRsaId;
    /* For signing too: the private half is external, xmlsec1 only ever sees a public key. */
    keyReq->keyType = xmlSecKeyDataTypePublic;
    keyReq->keyUsage = transform->operation == xmlSecTransformOperationSign ? xmlSecKeyUsageSign : xmlSecKeyUsageVerify;
    return 0;
}

static int govx_signature_set_key(xmlSecTransformPtr transform, xmlSecKeyPtr key) {
    govx_signature_ctx *ctx = GOVX_SIGNATURE_CTX(transform);
    xmlSecKeyDataPtr value = xmlSecKeyGetValue(key);
    EVP_PKEY *pkey = value != NULL ? xmlSecOpenSSLEvpKeyDataGetEvp(value) : NULL;
    if (pkey == NULL || EVP_PKEY_up_ref(pkey) != 1) {
        return -1;
    }
    EVP_PKEY_free(ctx->key);
    ctx->key = pkey;
    return 0;
}

/* Sets the transform status to Ok or Fail; returns -1 only when verification could not run. */
static int govx_signature_verify(xmlSecTransformPtr transform, const xmlSecByte *data, xmlSecSize dataSize,
                                 xmlSecTransformCtxPtr transformCtx) {
    (void)transformCtx;
    govx_signature_ctx *ctx = GOVX_SIGNATURE_CTX(transform);
    if (transform->operation != xmlSecTransformOperationVerify || transform->status != xmlSecTransformStatusFinished
        || !ctx->has_value || ctx->key == NULL) {
        return -1;
    }
    transform->status = xmlSecTransformStatusFail;
    unsigned char *der = NULL;
    const unsigned char *signature = data;
    size_t signatureLength = (size_t)dataSize;
    if (ctx->ec) {
        /* r ‖ s, each half the length (some signers drop leading zero bytes of both halves). */
        if (dataSize == 0 || dataSize % 2 != 0 || dataSize > 2 * 66) {
            return 0;
        }
        size_t half = (size_t)dataSize / 2;
        BIGNUM *r = BN_bin2bn(data, (int)half, NULL);
        BIGNUM *s = BN_bin2bn(data + half, (int)half, NULL);
        ECDSA_SIG *sig = ECDSA_SIG_new();
        if (r == NULL || s == NULL || sig == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
            BN_free(r);
            BN_free(s);
            ECDSA_SIG_free(sig);
            return -1;
        }
        int length = i2d_ECDSA_SIG(sig, &der);
        ECDSA_SIG_free(sig);
        if (length <= 0) {
            return -1;
        }
        signature = der;
        signatureLength = (size_t)length;
    }
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, ctx->key, NULL);
    int ok = pctx != NULL && EVP_PKEY_verify_init(pctx) == 1
        && (ctx->ec || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1)
        && EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) == 1;
    if (ok && EVP_PKEY_verify(pctx, signature, signatureLength, ctx->value, sizeof(ctx->value)) == 1) {
        transform->status = xmlSecTransformStatusOk;
    }
    EVP_PKEY_CTX_free(pctx);
    OPENSSL_free(der);
    return ok ? 0 : -1;
}

static int govx_signature_sign(govx_signature_ctx *ctx, const unsigned char *digest, xmlSecBufferPtr out) {
    if (!ctx->ec) {
        RSA *rsa = (RSA *)EVP_PKEY_get0_RSA(ctx->key);
        if (rsa == NULL || RSA_get_ex_data(rsa, govx_rsa_index) == NULL) {
            return -1;
        }
        int size = RSA_size(rsa);
        if (size <= 0 || xmlSecBufferSetSize(out, (xmlSecSize)size) < 0) {
            return -1;
        }
        unsigned int length = 0;
        if (RSA_sign(NID_sha256, digest, 32, xmlSecBufferGetData(out), &length, rsa) != 1 || length != (unsigned int)size) {
            return -1;
        }
        return 0;
    }
    EC_KEY *ec = (EC_KEY *)EVP_PKEY_get0_EC_KEY(ctx->key);
    if (ec == NULL || EC_KEY_get_ex_data(ec, govx_ec_index) == NULL) {
        return -1;
    }
    ECDSA_SIG *sig = ECDSA_do_sign(digest, 32, ec);
    if (sig == NULL) {
        return -1;
    }
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    int ok = r != NULL && s != NULL && xmlSecBufferSetSize(out, 64) == 0
        && BN_bn2binpad(r, xmlSecBufferGetData(out), 32) == 32
        && BN_bn2binpad(s, xmlSecBufferGetData(out) + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok ? 0 : -1;
}

static int govx_signature_execute(xmlSecTransformPtr transform, int last, xmlSecTransformCtxPtr transformCtx) {
    (void)transformCtx;
    govx_signature_ctx *ctx = GOVX_SIGNATURE_CTX(transform);
    xmlSecBufferPtr in = &(transform->inBuf);
    xmlSecBufferPtr out = &(transform->outBuf);
    if (ctx->key == NULL) {
        return -1;
    }
    if (transform->status == xmlSecTransformStatusNone) {
        transform->status = xmlSecTransformStatusWorking;
    }
    if (transform->status == xmlSecTransformStatusWorking) {
        xmlSecSize size = xmlSecBufferGetSize(in);
        if (size > 0) {
            if (EVP_DigestUpdate(ctx->digest, xmlSecBufferGetData(in), (size_t)size) != 1
                || xmlSecBufferRemoveHead(in, size) < 0) {
                return -1;
            }
        }
        if (last) {
            unsigned char digest[EVP_MAX_MD_SIZE];
            unsigned int digestLength = 0;
            if (EVP_DigestFinal_ex(ctx->digest, digest, &digestLength) != 1 || digestLength != 32) {
                return -1;
            }
            if (transform->operation == xmlSecTransformOperationSign) {
                if (govx_signature_sign(ctx, digest, out) < 0) {
                    return -1;
                }
            } else {
                memcpy(ctx->value, digest, 32);
                ctx->has_value = 1;
            }
            transform->status = xmlSecTransformStatusFinished;
        }
        return 0;
    }
    if (transform->status == xmlSecTransformStatusFinished) {
        return xmlSecBufferGetSize(in) == 0 ? 0 : -1;
    }
    return -1;
}

/* ---- Signing --------------------------------------------------------------------------------- */

int govx_sign(xmlDocPtr doc, xmlNodePtr parent, int scheme,
              const uint8_t *public_key_der, size_t public_key_length,
              const uint8_t *const *certificates, const size_t *certificate_lengths, size_t certificate_count,
              govx_sign_callback callback, void *context,
              xmlChar **signature_xml, int *signature_length,
              char *error, size_t error_capacity) {
    int status = GOVX_ERR_XMLSEC;
    EVP_PKEY *publicKey = NULL;
    EVP_PKEY *callbackKey = NULL;
    X509 *signerCertificate = NULL;
    xmlSecKeyPtr key = NULL;
    xmlSecKeyDataPtr value = NULL;
    xmlSecDSigCtxPtr dsig = NULL;
    xmlNodePtr signatureNode = NULL;
    xmlBufferPtr buffer = NULL;
    govx_signer signer = { callback, context, 0, 0 };

    govx_reset_error();
    *signature_xml = NULL;
    *signature_length = 0;
    if (govx_init() != 0) {
        govx_report(error, error_capacity, "xmlsec1 could not be initialised");
        return GOVX_ERR_XMLSEC;
    }
    if (certificate_count == 0 || doc == NULL || parent == NULL) {
        govx_report(error, error_capacity, "no signer certificate");
        return GOVX_ERR_CERTIFICATE;
    }

    const unsigned char *cursor = public_key_der;
    publicKey = d2i_PUBKEY(NULL, &cursor, (long)public_key_length);
    if (publicKey == NULL || cursor != public_key_der + public_key_length) {
        govx_report(error, error_capacity, "the signing key's public key (SubjectPublicKeyInfo DER) is unreadable");
        status = GOVX_ERR_KEY;
        goto done;
    }
    cursor = certificates[0];
    signerCertificate = d2i_X509(NULL, &cursor, (long)certificate_lengths[0]);
    if (signerCertificate == NULL) {
        govx_report(error, error_capacity, "the signer certificate (DER) is unreadable");
        status = GOVX_ERR_CERTIFICATE;
        goto done;
    }
    EVP_PKEY *certificateKey = X509_get0_pubkey(signerCertificate);
    if (certificateKey == NULL || EVP_PKEY_eq(certificateKey, publicKey) != 1) {
        govx_report(error, error_capacity, "the signer certificate does not carry the signing key's public key");
        status = GOVX_ERR_KEY_MISMATCH;
        goto done;
    }
    callbackKey = govx_callback_pkey(publicKey, scheme, &signer);
    if (callbackKey == NULL) {
        govx_report(error, error_capacity, "the signing key is not an RSA or EC P-256 key matching its scheme");
        status = GOVX_ERR_KEY;
        goto done;
    }

    value = xmlSecOpenSSLEvpKeyAdopt(callbackKey);
    if (value == NULL) {
        govx_report(error, error_capacity, "xmlSecOpenSSLEvpKeyAdopt failed");
        goto done;
    }
    callbackKey = NULL; /* owned by `value` */
    key = xmlSecKeyCreate();
    if (key == NULL || xmlSecKeySetValue(key, value) < 0) {
        govx_report(error, error_capacity, "xmlSecKeySetValue failed");
        goto done;
    }
    value = NULL; /* owned by `key` */

    xmlSecKeyDataPtr x509 = xmlSecKeyEnsureData(key, xmlSecOpenSSLKeyDataX509Id);
    if (x509 == NULL) {
        govx_report(error, error_capacity, "xmlSecKeyEnsureData(X509) failed");
        goto done;
    }
    X509 *keyCertificate = X509_dup(signerCertificate);
    if (keyCertificate == NULL || xmlSecOpenSSLKeyDataX509AdoptKeyCert(x509, keyCertificate) < 0) {
        X509_free(keyCertificate);
        govx_report(error, error_capacity, "xmlSecOpenSSLKeyDataX509AdoptKeyCert failed");
        goto done;
    }
    /* The certificates written to KeyInfo, in this order: the signer's first, then the chain. */
    for (size_t i = 0; i < certificate_count; ++i) {
        cursor = certificates[i];
        X509 *certificate = d2i_X509(NULL, &cursor, (long)certificate_lengths[i]);
        if (certificate == NULL) {
            govx_report(error, error_capacity, "a chain certificate (DER) is unreadable");
            status = GOVX_ERR_CERTIFICATE;
            goto done;
        }
        if (xmlSecOpenSSLKeyDataX509AdoptCert(x509, certificate) < 0) {
            X509_free(certificate);
            govx_report(error, error_capacity, "xmlSecOpenSSLKeyDataX509AdoptCert failed");
            goto done;
        }
    }

    xmlSecTransformId method = scheme == GOVX_SCHEME_RSA_SHA256 ? &govx_rsa_sha256_klass : &govx_ecdsa_sha256_klass;
    signatureNode = xmlSecTmplSignatureCreate(doc, xmlSecTransformExclC14NId, method, NULL);
    if (signatureNode == NULL) {
        govx_report(error, error_capacity, "xmlSecTmplSignatureCreate failed");
        goto done;
    }
    if (xmlAddChild(parent, signatureNode) == NULL) {
        xmlFreeNode(signatureNode);
        signatureNode = NULL;
        govx_report(error, error_capacity, "xmlAddChild failed");
        goto done;
    }
    xmlNodePtr reference = xmlSecTmplSignatureAddReference(signatureNode, xmlSecTransformSha256Id, NULL, BAD_CAST "", NULL);
    if (reference == NULL
        || xmlSecTmplReferenceAddTransform(reference, xmlSecTransformEnvelopedId) == NULL
        || xmlSecTmplReferenceAddTransform(reference, xmlSecTransformExclC14NId) == NULL) {
        govx_report(error, error_capacity, "building the Reference failed");
        goto done;
    }
    xmlNodePtr keyInfo = xmlSecTmplSignatureEnsureKeyInfo(signatureNode, NULL);
    xmlNodePtr x509Data = keyInfo != NULL ? xmlSecTmplKeyInfoAddX509Data(keyInfo) : NULL;
    if (x509Data == NULL || xmlSecTmplX509DataAddCertificate(x509Data) == NULL) {
        govx_report(error, error_capacity, "building KeyInfo failed");
        goto done;
    }

    dsig = xmlSecDSigCtxCreate(NULL);
    if (dsig == NULL) {
        govx_report(error, error_capacity, "xmlSecDSigCtxCreate failed");
        goto done;
    }
    dsig->signKey = key;
    key = NULL; /* owned by `dsig` */
    dsig->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
    /* Only these transforms exist for this signature: ours for SignatureMethod (see above). */
    if (xmlSecDSigCtxEnableSignatureTransform(dsig, xmlSecTransformExclC14NId) < 0
        || xmlSecDSigCtxEnableSignatureTransform(dsig, method) < 0
        || xmlSecDSigCtxEnableReferenceTransform(dsig, xmlSecTransformEnvelopedId) < 0
        || xmlSecDSigCtxEnableReferenceTransform(dsig, xmlSecTransformExclC14NId) < 0
        || xmlSecDSigCtxEnableReferenceTransform(dsig, xmlSecTransformSha256Id) < 0) {
        govx_report(error, error_capacity, "restricting transforms failed");
        goto done;
    }
    if (xmlSecDSigCtxSign(dsig, signatureNode) < 0) {
        if (signer.failed) {
            status = GOVX_ERR_CALLBACK;
            govx_report(error, error_capacity, "the signing key failed");
        } else {
            govx_report(error, error_capacity, signer.called ? "xmlsec1 signing failed after the key signed"
                                                             : "xmlsec1 signing failed");
        }
        goto done;
    }
    if (!signer.called) {
        /* Never expected: the only key xmlsec1 had is the callback key. */
        govx_report(error, error_capacity, "the signing key was not used");
        goto done;
    }

    buffer = xmlBufferCreate();
    if (buffer == NULL || xmlNodeDump(buffer, doc, signatureNode, 0, 0) < 0) {
        govx_report(error, error_capacity, "serialising the Signature failed");
        goto done;
    }
    int length = xmlBufferLength(buffer);
    *signature_xml = xmlStrndup(xmlBufferContent(buffer), length);
    if (*signature_xml == NULL) {
        govx_report(error, error_capacity, "out of memory");
        goto done;
    }
    *signature_length = length;
    status = GOVX_OK;

done:
    if (buffer != NULL) {
        xmlBufferFree(buffer);
    }
    if (dsig != NULL) {
        xmlSecDSigCtxDestroy(dsig);
    }
    if (key != NULL) {
        xmlSecKeyDestroy(key);
    }
    if (value != NULL) {
        xmlSecKeyDataDestroy(value);
    }
    EVP_PKEY_free(callbackKey);
    EVP_PKEY_free(publicKey);
    X509_free(signerCertificate);
    return status;
}

/* ---- Verifying ------------------------------------------------------------------------------- */

/* One keys manager per thread, made on first use and kept: creating one loads the system's
   whole CA bundle into its X509 store (about 20 ms, the bulk of a verify), although with
   DONT_VERIFY_CERTS the store is never consulted for trust. Verifying only reads the manager, and
   a thread runs one verify at a time, so a thread's own manager needs no lock. */
static __thread xmlSecKeysMngrPtr govx_thread_manager = NULL;

static xmlSecKeysMngrPtr govx_verify_manager(void) {
    if (govx_thread_manager == NULL) {
        xmlSecKeysMngrPtr made = xmlSecKeysMngrCreate();
        if (made == NULL) {
            return NULL;
        }
        if (xmlSecOpenSSLAppDefaultKeysMngrInit(made) < 0) {
            xmlSecKeysMngrDestroy(made);
            return NULL;
        }
        govx_thread_manager = made;
    }
    return govx_thread_manager;
}

int govx_verify(xmlDocPtr doc, xmlNodePtr signature,
                uint8_t **signer_der, int *signer_length,
                char *error, size_t error_capacity) {
    int status = GOVX_ERR_XMLSEC;
    xmlSecKeysMngrPtr manager = NULL;
    xmlSecDSigCtxPtr dsig = NULL;

    govx_reset_error();
    *signer_der = NULL;
    *signer_length = 0;
    if (govx_init() != 0) {
        govx_report(error, error_capacity, "xmlsec1 could not be initialised");
        return GOVX_ERR_XMLSEC;
    }
    /* A manager with an X509 store is what makes xmlsec1 take the key from X509Data; with
       DONT_VERIFY_CERTS it picks the leaf certificate of KeyInfo without any trust decision. */
    manager = govx_verify_manager();
    if (manager == NULL) {
        govx_report(error, error_capacity, "creating the xmlsec1 keys manager failed");
        goto done;
    }
    dsig = xmlSecDSigCtxCreate(manager);
    if (dsig == NULL) {
        govx_report(error, error_capacity, "xmlSecDSigCtxCreate failed");
        goto done;
    }
    dsig->keyInfoReadCtx.flags |= XMLSEC_KEYINFO_FLAGS_X509DATA_DONT_VERIFY_CERTS;
    /* No KeyValue, KeyName, RetrievalMethod (which could fetch a URI) or EncryptedKey: the key
       comes from a certificate or not at all. */
    dsig->keyInfoReadCtx.maxRetrievalMethodLevel = 0;
    if (xmlSecPtrListAdd(&(dsig->keyInfoReadCtx.enabledKeyData), (void *)xmlSecOpenSSLKeyDataX509Id) < 0) {
        govx_report(error, error_capacity, "restricting KeyInfo failed");
        goto done;
    }
    /* Defence in depth: the caller checked SignedInfo already. */
    dsig->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
    if (xmlSecDSigCtxEnableReferenceTransform(dsig, xmlSecTransformEnvelopedId) < 0
        || xmlSecDSigCtxEnableReferenceTransform(dsig, xmlSecTransformExclC14NId) < 0
        || xmlSecDSigCtxEnableReferenceTransform(dsig, xmlSecTransformExclC14NWithCommentsId) < 0
        || xmlSecDSigCtxEnableReferenceTransform(dsig, xmlSecTransformSha256Id) < 0
        || xmlSecDSigCtxEnableReferenceTransform(dsig, xmlSecTransformSha1Id) < 0
        || xmlSecDSigCtxEnableSignatureTransform(dsig, xmlSecTransformExclC14NId) < 0
        || xmlSecDSigCtxEnableSignatureTransform(dsig, xmlSecTransformExclC14NWithCommentsId) < 0
        || xmlSecDSigCtxEnableSignatureTransform(dsig, xmlSecTransformInclC14NId) < 0
        || xmlSecDSigCtxEnableSignatureTransform(dsig, xmlSecTransformInclC14NWithCommentsId) < 0
        || xmlSecDSigCtxEnableSignatureTransform(dsig, xmlSecTransformInclC14N11Id) < 0
        || xmlSecDSigCtxEnableSignatureTransform(dsig, xmlSecTransformInclC14N11WithCommentsId) < 0
        || xmlSecDSigCtxEnableSignatureTransform(dsig, &govx_rsa_sha256_klass) < 0
        || xmlSecDSigCtxEnableSignatureTransform(dsig, xmlSecTransformRsaSha1Id) < 0
        || xmlSecDSigCtxEnableSignatureTransform(dsig, &govx_ecdsa_sha256_klass) < 0) {
        govx_report(error, error_capacity, "restricting transforms failed");
        goto done;
    }

    if (xmlSecDSigCtxVerify(dsig, signature) < 0) {
        if (dsig->signKey == NULL) {
            status = GOVX_ERR_KEY_NOT_FOUND;
            govx_report(error, error_capacity, "no key usable with the SignatureMethod in KeyInfo");
        } else {
            govx_report(error, error_capacity, "xmlsec1 verification failed");
        }
        goto done;
    }
    if (dsig->status != xmlSecDSigStatusSucceeded) {
        status = GOVX_ERR_INVALID;
        govx_report(error, error_capacity, "digest or signature value does not match");
        goto done;
    }
    xmlSecKeyDataPtr x509 = dsig->signKey != NULL ? xmlSecKeyGetData(dsig->signKey, xmlSecOpenSSLKeyDataX509Id) : NULL;
    X509 *certificate = x509 != NULL ? xmlSecOpenSSLKeyDataX509GetKeyCert(x509) : NULL;
    if (certificate == NULL) {
        status = GOVX_ERR_KEY_NOT_FOUND;
        govx_report(error, error_capacity, "the verifying key did not come from a certificate");
        goto done;
    }
    int length = i2d_X509(certificate, NULL);
    if (length <= 0) {
        govx_report(error, error_capacity, "encoding the signer certificate failed");
        goto done;
    }
    uint8_t *der = (uint8_t *)xmlMalloc((size_t)length);
    if (der == NULL) {
        govx_report(error, error_capacity, "out of memory");
        goto done;
    }
    unsigned char *out = der;
    i2d_X509(certificate, &out);
    *signer_der = der;
    *signer_length = length;
    status = GOVX_OK;

done:
    if (dsig != NULL) {
        xmlSecDSigCtxDestroy(dsig);
    }
    return status;
}

int govx_certificate_key_type(const uint8_t *der, size_t length) {
    const unsigned char *cursor = der;
    X509 *certificate = d2i_X509(NULL, &cursor, (long)length);
    if (certificate == NULL) {
        return 0;
    }
    int type = 3;
    EVP_PKEY *key = X509_get0_pubkey(certificate);
    if (key != NULL) {
        if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
            type = 1;
        } else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
            const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(key);
            const EC_GROUP *group = ec != NULL ? EC_KEY_get0_group(ec) : NULL;
            if (group != NULL && EC_GROUP_get_curve_name(group) == NID_X9_62_prime256v1) {
                type = 2;
            }
        }
    }
    X509_free(certificate);
    return type;
}
