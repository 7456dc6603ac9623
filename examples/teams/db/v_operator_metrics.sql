-- Hand-written: the operator's dashboard, across tenants. security_invoker, so it reads as the
-- caller: only the service role (webhooks, operators) may read it, and it sees every tenant's
-- subscriptions and plans because the schema declares service=("SELECT", …) on them.
SET ROLE app_owner;

CREATE VIEW app.v_operator_metrics WITH (security_invoker = true) AS
SELECT
    count(*) FILTER (WHERE s.status = 'active') AS active_tenants,
    COALESCE(sum(p.price) FILTER (WHERE s.status = 'active'), 0) AS mrr
FROM app.tb_tenant_subscription s
JOIN app.tb_plan p ON p.pk_plan = s.fk_plan;

REVOKE ALL ON app.v_operator_metrics FROM PUBLIC;
GRANT SELECT ON app.v_operator_metrics TO app_service;

RESET ROLE;
