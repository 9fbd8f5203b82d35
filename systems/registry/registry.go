// Package registry lists the systems hadrill can drill. Adding a system is
// one line here and a folder of its own under systems/.
package registry

import (
	"slices"

	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/systems/etcd"
	"github.com/hadrill/hadrill/systems/hakv"
	mariadbkeepalived "github.com/hadrill/hadrill/systems/mariadb-keepalived"
	postgresautofailover "github.com/hadrill/hadrill/systems/postgres-autofailover"
	redissentinel "github.com/hadrill/hadrill/systems/redis-sentinel"
)

// all are the known systems, the default (hakv) first.
var all = []systems.System{
	hakv.System{},
	etcd.System{},
	postgresautofailover.System{},
	mariadbkeepalived.System{},
	redissentinel.System{},
}

// Default is the system a scenario gets when it names none.
const Default = "hakv"

// All returns every known system, in registry order.
func All() []systems.System { return slices.Clone(all) }

// Lookup returns the system with the given name.
func Lookup(name string) (systems.System, bool) {
	for _, s := range all {
		if s.Name() == name {
			return s, true
		}
	}
	return nil, false
}

// Names lists the known systems' names, in registry order.
func Names() []string {
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name()
	}
	return names
}
