#ifndef XMLKIT_CLIBXML2_SHIM_H
#define XMLKIT_CLIBXML2_SHIM_H

#include <libxml/xmlversion.h>
/* Debian builds libxml2 with ICU, so encoding.h would pull in the system ICU headers, whose
   UErrorCode clashes with Foundation's bundled ICU module in any Swift file importing both.
   The flag only adds two trailing pointer fields to xmlCharEncodingHandler, a struct XMLKit never
   allocates, embeds or reads; libxml2 itself is unaffected. */
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlwriter.h>
#include <libxml/xmlsave.h>
#include <libxml/c14n.h>
#include <libxml/xmlerror.h>
#include <libxml/tree.h>
#include <libxml/globals.h>
#include <libxml/xmlmemory.h>

/* xmlFree is a macro over a global function pointer (or the pointer itself),
   which Swift cannot call directly. */
static inline void xmlkit_free(void *pointer) {
    if (pointer != NULL) {
        xmlFree(pointer);
    }
}

/* Variadic callbacks cannot be written in Swift. libxml2's default generic
   handler prints to stderr; errors we care about are captured per parser. */
static inline void xmlkit_discard_generic_error(void *context, const char *message, ...) {
    (void)context;
    (void)message;
}

static inline void xmlkit_discard_structured_error(void *context, xmlErrorPtr error) {
    (void)context;
    (void)error;
}

/* libxml2 keeps its error handlers per thread. The ThrDef variants set the
   value copied into every thread's state when that thread first touches
   libxml2; the plain variants fix the calling thread, whose state may exist. */
static inline void xmlkit_silence_global_errors(void) {
    xmlThrDefSetGenericErrorFunc(NULL, xmlkit_discard_generic_error);
    xmlThrDefSetStructuredErrorFunc(NULL, xmlkit_discard_structured_error);
    xmlSetGenericErrorFunc(NULL, xmlkit_discard_generic_error);
    xmlSetStructuredErrorFunc(NULL, xmlkit_discard_structured_error);
}

#endif
