-- The app's role. Run the bot as a LOGIN role that is a member of
-- countersign_app (see README, "Database roles"); migrate as the owner.
-- The audit tables take INSERT and SELECT only: UPDATE, DELETE and TRUNCATE
-- are refused by privileges here, and by the append-only triggers besides.
-- Roles are cluster-wide: creating it twice (another database on the same
-- server, or two migrations racing) is not an error.
DO $$
BEGIN
  CREATE ROLE countersign_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO countersign_app;--> statement-breakpoint
-- Every other table (state the app updates: escalations, agent_states, …) gets full DML.
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public'
      AND tablename NOT IN ('events', 'audit_chain', 'spend_ledger') LOOP
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.%I TO countersign_app', t);
  END LOOP;
END $$;--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO countersign_app;--> statement-breakpoint
REVOKE ALL ON events, audit_chain, spend_ledger FROM PUBLIC;--> statement-breakpoint
REVOKE ALL ON events, audit_chain, spend_ledger FROM countersign_app;--> statement-breakpoint
GRANT SELECT, INSERT ON events, audit_chain, spend_ledger TO countersign_app;--> statement-breakpoint
-- Tables that later migrations create get the same full DML by default; a
-- new audit table must REVOKE UPDATE, DELETE, TRUNCATE in its own migration.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO countersign_app;--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO countersign_app;
