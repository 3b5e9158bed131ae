-- 0005: PLACEHOLDER on branch stadium-server only, so its 0006 applies (versions run
-- without gaps). The held_at migration of the concurrent branch takes this number:
-- delete this file at merge. It does nothing.
SELECT 1;
