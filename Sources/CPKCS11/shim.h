#ifndef GOVOFFICE_CPKCS11_SHIM_H
#define GOVOFFICE_CPKCS11_SHIM_H

/* Only the OASIS PKCS#11 header (p11-kit ships the complete one, with the CK_ macros defining
   the platform's packing and calling convention). No library is linked: modules are loaded at
   run time with dlopen, from the path the operator configures. */
#include <p11-kit/pkcs11.h>

#endif
