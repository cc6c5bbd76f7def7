-- Checkpoints are written only by countersign_prune_audit, which runs as the
-- owner: the app's role may read them, not add one that would make verify
-- start past events it never pruned.
REVOKE INSERT ON audit_checkpoints FROM countersign_app;
