-- The dashboard's counters and totals are kept by the store's write methods
-- (store/changes.go) in the transaction of each write, the same way on
-- every database, so the triggers that kept them until now (migration 0005
-- as it was) go. A database made since has none: IF EXISTS.
DROP TRIGGER IF EXISTS teams_ai_dashboard
-- split

DROP TRIGGER IF EXISTS deals_ai_dashboard
-- split

DROP TRIGGER IF EXISTS deals_au_dashboard
-- split

DROP TRIGGER IF EXISTS deals_ad_dashboard
-- split

DROP TRIGGER IF EXISTS deal_stage_log_ai_dashboard
-- split

DROP TRIGGER IF EXISTS deal_stage_log_au_dashboard
-- split

DROP TRIGGER IF EXISTS deal_stage_log_ad_dashboard
-- split

DROP TRIGGER IF EXISTS activities_ai_dashboard
-- split

DROP TRIGGER IF EXISTS activities_au_dashboard
-- split

DROP TRIGGER IF EXISTS activities_ad_dashboard
-- split

DROP TRIGGER IF EXISTS contacts_ad_dashboard
-- split

DROP TRIGGER IF EXISTS users_au_dashboard
