-- Hand-written: seed 000's fn_invite_member, hardened. It records a pending invitation by
-- e-mail; it never looks the address up, so the inviter learns nothing about whether it has an
-- account or belongs to another tenant, and it never writes a membership (a membership naming
-- a user the caller cannot see is refused by the generated policies). Accepting an invitation
-- is a privileged flow of its own. Same rules as generated code: SECURITY INVOKER, a pinned
-- search_path with pg_temp last, schema-qualified names, statuses instead of exceptions,
-- EXECUTE only for the API role. The tb_invitation policies (admins only, no role above the
-- caller's; writes={"INSERT": "admin"} in schema.py) are the backstop.
SET ROLE app_owner;

CREATE FUNCTION app.fn_invite_member(
    p_org_id uuid,
    p_email text,
    p_role text DEFAULT 'member'
) RETURNS app.mutation_response
    LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenant bigint := (SELECT app_private.fn_current_tenant_pk());
BEGIN
    IF v_tenant IS NULL THEN
        RETURN app_private.fn_mutation_failure('unauthorized', 'failed:unauthenticated', 401,
            'no tenant selected, or the caller is not a member of it', 'Member');
    END IF;
    IF NOT COALESCE((SELECT app_private.fn_current_tenant_role()) = ANY (ARRAY['owner', 'admin']), false) THEN
        RETURN app_private.fn_mutation_failure('forbidden', 'failed:forbidden', 403, 'requires role admin', 'Member');
    END IF;
    -- Invitations go to the selected organization only.
    IF p_org_id IS DISTINCT FROM (SELECT app_private.fn_current_tenant_id()) THEN
        RETURN app_private.fn_mutation_failure('not_found', 'noop:not_found', 404, 'Organization not found', 'Member');
    END IF;
    INSERT INTO app.tb_invitation (fk_organization, email, role)
    VALUES (v_tenant, pg_catalog.lower(p_email), p_role)
    ON CONFLICT (fk_organization, email) DO NOTHING;
    -- The same answer for a new, a repeated, a member's or an unknown address.
    RETURN app_private.fn_mutation_success('invited', 202, 'Invitation recorded', NULL, 'Member', NULL, NULL);
EXCEPTION
    WHEN insufficient_privilege THEN
        RETURN app_private.fn_mutation_failure('forbidden', 'failed:forbidden', 403, SQLERRM, 'Member');
    WHEN check_violation OR not_null_violation OR invalid_text_representation THEN
        RETURN app_private.fn_mutation_failure('validation', 'failed:validation', 422, SQLERRM, 'Member');
END
$$;
REVOKE ALL ON FUNCTION app.fn_invite_member(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.fn_invite_member(uuid, text, text) TO app_user;

RESET ROLE;
