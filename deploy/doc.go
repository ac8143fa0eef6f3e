// Package deploy holds no code: its tests check the packaging (the
// Dockerfile, the systemd unit and the Helm chart under this directory)
// against the real binary, systemd-analyze, helm, promtool and the
// Kubernetes and Prometheus Operator API types.
package deploy
