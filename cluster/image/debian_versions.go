package image

// debLibFaketime is the one package every Debian image gets: the node
// agent's clock fault preloads libfaketime into the system's process.
//
// Each system pins its own packages in its own folder. The live archive
// keeps only the newest version of a package in each suite, so a security
// update retires a pin: the build then fails with an ErrBuild naming
// the package and version, and the fix is to update the pin (`apt-cache
// policy NAME` on a bookworm host shows the new candidate). Images built
// from the old pin stay in the cache meanwhile.
const debLibFaketime = "libfaketime=0.9.10-2.1"
