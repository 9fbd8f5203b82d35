package cluster

// Pinned Debian bookworm packages, as "name=version" for DebianRecipe's
// Packages. They are the archive's candidates (bookworm, bookworm-updates and
// bookworm-security, whichever is newest) on 2026-11-30, read with
// `apt-cache policy` on a host using the same archive as the base image.
//
// The live archive keeps only the newest version of a package in each suite,
// so a security update retires a pin: the build then fails with an
// ErrImageBuild naming the package and version, and the fix is to update the
// constant here (apt-cache policy NAME shows the new candidate). Every image
// built from the old pin stays in the cache meanwhile.
const (
	DebEtcdServer  = "etcd-server=3.4.23-4+b4"
	DebEtcdClient  = "etcd-client=3.4.23-4+b4"
	DebRedisServer = "redis-server=5:7.0.15-1~deb12u10"
	// DebRedisSentinel and DebRedisTools must move with DebRedisServer:
	// redis-server depends on the exact same redis-tools version.
	DebRedisSentinel = "redis-sentinel=5:7.0.15-1~deb12u10"
	DebRedisTools    = "redis-tools=5:7.0.15-1~deb12u10"

	DebPostgreSQL15             = "postgresql-15=15.20-0+deb12u1"
	DebPostgreSQL15AutoFailover = "postgresql-15-auto-failover=2.0-2+b1"
	DebPgAutoFailoverCLI        = "pg-auto-failover-cli=2.0-2+b1"
	DebMariaDBServer            = "mariadb-server=1:10.11.19-0+deb12u1"
	DebKeepalived               = "keepalived=1:2.2.7-1+b2"
	DebHAProxy                  = "haproxy=2.6.12-1+deb12u4"
	debLibFaketime              = "libfaketime=0.9.10-2.1"
	DebFaketime                 = "faketime=0.9.10-2.1"
	DebIproute2                 = "iproute2=6.1.0-3"
	DebProcps                   = "procps=2:4.0.2-3"
)
