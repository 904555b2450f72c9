// Build stamp of akua-driftd: the git revision, build date and Swift version that a release build
// (`make release-driftd`) passes in through Package.swift; empty strings in a plain `swift build`.
#ifndef AKUA_CBUILDINFO_H
#define AKUA_CBUILDINFO_H

/// The git revision (`git describe --always --dirty`), or "" when not stamped.
const char *akua_build_revision(void);
/// The build date in UTC (ISO 8601; `SOURCE_DATE_EPOCH` when set), or "" when not stamped.
const char *akua_build_date(void);
/// The first line of `swift --version` of the toolchain that built it, or "" when not stamped.
const char *akua_build_swift(void);

#endif
