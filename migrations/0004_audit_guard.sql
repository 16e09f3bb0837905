-- Raises an error with the given SQLSTATE. An append that is its own statement calls it to abort
-- itself, undoing the writes of its earlier steps (the head move, a reveal budget it claimed) when
-- the budget refused. VOLATILE: never evaluated ahead of time by the planner.
CREATE OR REPLACE FUNCTION tokenvault_abort(code text, reason text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION '%', reason USING ERRCODE = code;
END;
$$;
