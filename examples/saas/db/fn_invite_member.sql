-- Hand-written: seed 000's fn_invite_member, hardened. It upserts a membership by the invitee's
-- email, which the generated CREATE/UPDATE shapes do not cover. Same rules as generated code:
-- SECURITY INVOKER, search_path = '', schema-qualified names, statuses instead of exceptions,
-- EXECUTE only for the API role. The tb_membership policies (admins only) are the backstop.
SET ROLE app_owner;

-- The invitee is not a co-member yet, so RLS hides their tb_user row: this definer helper
-- resolves an email to a user, and answers only an admin or owner of the current tenant.
CREATE FUNCTION app_private.fn_invitable_user_pk(p_email text) RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
    IF COALESCE((SELECT app_private.fn_current_tenant_role()) = ANY (ARRAY['owner', 'admin']), false) THEN
        RETURN (SELECT u.pk_user FROM app.tb_user u WHERE u.email = p_email);
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app_private.fn_invitable_user_pk(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_private.fn_invitable_user_pk(text) TO app_user;

CREATE FUNCTION app.fn_invite_member(
    p_org_id uuid,
    p_email text,
    p_role text DEFAULT 'member'
) RETURNS app.mutation_response
    LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = ''
AS $$
DECLARE
    v_tenant bigint := (SELECT app_private.fn_current_tenant_pk());
    v_user bigint;
    v_user_id uuid;
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
    v_user := app_private.fn_invitable_user_pk(p_email);
    IF v_user IS NULL THEN
        RETURN app_private.fn_mutation_failure('not_found', 'noop:not_found', 404, 'User not found', 'Member');
    END IF;
    INSERT INTO app.tb_membership (fk_organization, fk_user, role)
    VALUES (v_tenant, v_user, p_role)
    ON CONFLICT (fk_organization, fk_user) DO UPDATE SET role = EXCLUDED.role;
    SELECT u.id INTO v_user_id FROM app.tb_user u WHERE u.pk_user = v_user;
    RETURN app_private.fn_mutation_success('updated', 200, 'Member invited', v_user_id, 'Member',
        (SELECT v.data FROM app.v_member v WHERE v.id = v_user_id AND v.org_id = p_org_id), NULL);
EXCEPTION
    WHEN insufficient_privilege THEN
        RETURN app_private.fn_mutation_failure('forbidden', 'failed:forbidden', 403, SQLERRM, 'Member');
    WHEN check_violation OR not_null_violation THEN
        RETURN app_private.fn_mutation_failure('validation', 'failed:validation', 422, SQLERRM, 'Member');
END
$$;
REVOKE ALL ON FUNCTION app.fn_invite_member(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.fn_invite_member(uuid, text, text) TO app_user;

RESET ROLE;
