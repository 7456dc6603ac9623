-- Hand-written: seed 000's v_member, hardened. The API type Member is not an entity (a member
-- is a user seen through one membership), so fraisec does not generate this view.
-- security_invoker: the caller's RLS on tb_membership/tb_user/tb_organization applies;
-- org_id is the native column the runtime's inject filter (org_id = jwt:org_id) compares.
SET ROLE app_owner;

CREATE VIEW app.v_member WITH (security_invoker = true) AS
SELECT
    u.id,
    jsonb_build_object(
        'id', u.id,
        'name', u.name,
        'email', u.email,
        'role', m.role,
        'joined_at', m.joined_at,
        'organization_id', o.id
    ) AS data,
    o.id AS org_id
FROM app.tb_membership m
JOIN app.tb_user u ON u.pk_user = m.fk_user
JOIN app.tb_organization o ON o.pk_organization = m.fk_organization;

GRANT SELECT ON app.v_member TO app_user;

RESET ROLE;
