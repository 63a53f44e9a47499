module harvgen.test/upgrade-guard

go 1.25

require github.com/harvester/go-common v0.0.0-20260119194217-0f17176ce67e

require github.com/Masterminds/semver/v3 v3.4.0 // indirect
