-- 0004: function parameters are named p_... (and locals v_...). PostgreSQL cannot rename
-- an input parameter with CREATE OR REPLACE, so the functions whose parameters were
-- renamed are dropped here; the migrator applies every file of functions/ after any
-- migration, in the same transaction, so they are back (renamed) before it commits and
-- no other session ever sees them missing. Callers pass arguments by position and are
-- not affected.
--
-- A later change of a function's signature (arguments or result) works the same way:
-- a migration that drops the old signature, and the new one in its functions/ file.
DROP FUNCTION IF EXISTS seatcast_apply(jsonb, bigint);
DROP FUNCTION IF EXISTS seatcast_expire(int);
DROP FUNCTION IF EXISTS seatcast_prune(bigint, interval);
DROP FUNCTION IF EXISTS seatcast_audit(text);
