-- Hand-written: a member leaves the current tenant. The API role holds no DELETE on
-- memberships (it would let an admin remove anyone), so this is a declared privileged path:
-- schema.py says @fq.mutation(sql_source="fn_leave_tenant", privileged=True) and
-- @fq.entity(privileged=("SELECT", "DELETE")) on TenantUser; fraisec's privileged.sql gives the
-- function to app_privileged (the runtime calls the generated entry point app.fn_leave_tenant),
-- and the contract check requires what is below: SECURITY DEFINER,
-- a pinned search_path, the tenant and the user from the context helpers (never an argument).
-- The last owner cannot leave (the generated trigger refuses it: failed:validation).
SET ROLE app_owner;

CREATE FUNCTION app_private.fn_leave_tenant() RETURNS app.mutation_response
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenant bigint := (SELECT app_private.fn_current_tenant_pk());  -- NULL unless a member
    v_user bigint := (SELECT app_private.fn_current_user_pk());
    v_id uuid;
BEGIN
    IF v_tenant IS NULL OR v_user IS NULL THEN
        RETURN app_private.fn_mutation_failure('unauthorized', 'failed:unauthenticated', 401,
            'no tenant selected, or the caller is not a member of it', 'TenantUser');
    END IF;
    DELETE FROM app.tb_tenant_user m WHERE m.fk_tenant = v_tenant AND m.fk_user = v_user
    RETURNING m.id INTO v_id;
    IF v_id IS NULL THEN
        RETURN app_private.fn_mutation_failure('not_found', 'noop:not_found', 404, 'TenantUser not found',
            'TenantUser');
    END IF;
    RETURN app_private.fn_mutation_success('deleted', 200, 'TenantUser deleted', v_id, 'TenantUser',
        jsonb_build_object('id', v_id), NULL);
EXCEPTION
    WHEN check_violation THEN  -- the last owner stays
        RETURN app_private.fn_mutation_failure('validation', 'failed:validation', 422, SQLERRM, 'TenantUser');
END
$$;

RESET ROLE;
