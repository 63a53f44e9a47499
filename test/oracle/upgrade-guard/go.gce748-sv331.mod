module harvgen.test/upgrade-guard

go 1.23

require github.com/harvester/go-common v0.0.0-20250109132713-e748ce72a7ba

require github.com/Masterminds/semver/v3 v3.3.1 // indirect
