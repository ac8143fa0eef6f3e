(import 'quorum.libsonnet') +
(import 'members.libsonnet') +
(import 'config.libsonnet') +
(import 'exporter.libsonnet')
