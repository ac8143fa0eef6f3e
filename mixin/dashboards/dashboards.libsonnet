(import 'overview.libsonnet') +
(import 'maintenance.libsonnet')
