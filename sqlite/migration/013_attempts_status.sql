-- Every subscription's log of some statuses (an operator's "Failed in the
-- last day", the console overview's counts): without it a rare status is
-- looked for through every attempt's entry of the time index.
CREATE INDEX attempts_status ON attempts (status, created_at, id);
