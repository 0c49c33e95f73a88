/*
 * version.h - the release of mxspool, printed by `mxspool-replay --version`
 * and `mxspool-ingest -V` together with the index schema version the program
 * knows (index_known_version) and the SQLite library it runs with.
 */
#ifndef MXS_VERSION_H
#define MXS_VERSION_H

#define MXS_VERSION	"0.1.0"

#endif
