// The values come from -D defines that Package.swift sets from AKUA_BUILD_* environment variables
// (the Makefile's release build); only this file is recompiled when they change.
#include "CBuildInfo.h"

#ifndef AKUA_BUILD_REVISION
#define AKUA_BUILD_REVISION ""
#endif
#ifndef AKUA_BUILD_DATE
#define AKUA_BUILD_DATE ""
#endif
#ifndef AKUA_BUILD_SWIFT
#define AKUA_BUILD_SWIFT ""
#endif

const char *akua_build_revision(void) { return AKUA_BUILD_REVISION; }
const char *akua_build_date(void) { return AKUA_BUILD_DATE; }
const char *akua_build_swift(void) { return AKUA_BUILD_SWIFT; }
