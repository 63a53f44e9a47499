module harvgen.test/upgrade-guard

go 1.22

require github.com/harvester/go-common v0.0.0-20240822134235-198df47889ca

require github.com/Masterminds/semver/v3 v3.3.0 // indirect
