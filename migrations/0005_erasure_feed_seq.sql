-- The erasure feed's next sequence number. It takes the feed lock, held to commit, so sequence
-- numbers are assigned in commit order, and only then reads the highest one. VOLATILE: under READ
-- COMMITTED its query takes a snapshot of its own, after the lock is granted, and so sees the
-- erasure that held the lock before. (A statement that took the lock and read max(seq) itself would
-- read it in the snapshot it began with, and could hand out that erasure's number again.) One
-- statement then takes the lock and inserts the feed row, where two round trips did before.
CREATE OR REPLACE FUNCTION tokenvault_next_erasure_seq() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7210004);
  RETURN (SELECT coalesce(max(seq), 0) + 1 FROM erasures);
END;
$$;
