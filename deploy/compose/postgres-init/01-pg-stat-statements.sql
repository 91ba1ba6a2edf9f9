-- Run once by the postgres image's entrypoint when the data volume is first initialised, in the `postgres`
-- database: the one the exporter connects to (deploy/compose/crm-exporter.yaml). The view there lists the
-- statements of every database, the CRM's `crm` included. The library itself is preloaded by docker-compose.yml.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
