-- Functions, procedures and aggregates. PostgreSQL has no deparse for an aggregate
-- (pg_get_functiondef refuses one), so its CREATE OR REPLACE AGGREGATE is built here from
-- pg_aggregate, every option spelled out so that two sides compare option by option. A window
-- function (kind 'w') is a function whose definition says WINDOW.
select p.oid, p.oid::regprocedure::text as signature, n.nspname as schema, p.proname as name, p.prokind as kind,
       pg_get_userbyid(p.proowner) as owner,
       pg_get_function_identity_arguments(p.oid) as identity_args,
       pg_get_function_arguments(p.oid) as arguments,
       pg_get_function_result(p.oid) as result,
       -- Citus's own settings on a function are placed by the Citus steps of distribution.sql
       -- and migrations where Citus is installed (docs/scale-out.md), not by the schema.
       case when p.prokind in ('f', 'p', 'w')
            then regexp_replace(pg_get_functiondef(p.oid), '\n SET "citus\.[^\n]*', '', 'g')
            when p.prokind = 'a' then (
              select 'CREATE OR REPLACE AGGREGATE ' || quote_ident(n.nspname) || '.'
                     || quote_ident(p.proname) || '('
                     || coalesce(nullif(pg_get_function_arguments(p.oid), ''), '*') || ') ('
                     || concat_ws(', ',
                          'SFUNC = ' || a.aggtransfn::regproc::text,
                          'STYPE = ' || format_type(a.aggtranstype, null),
                          case when a.aggtransspace <> 0 then 'SSPACE = ' || a.aggtransspace end,
                          case when a.aggfinalfn <> 0 then 'FINALFUNC = ' || a.aggfinalfn::regproc::text end,
                          case when a.aggfinalextra then 'FINALFUNC_EXTRA' end,
                          case when a.aggfinalfn <> 0 then 'FINALFUNC_MODIFY = ' || case a.aggfinalmodify
                               when 'r' then 'READ_ONLY' when 's' then 'SHAREABLE' else 'READ_WRITE' end end,
                          case when a.aggcombinefn <> 0 then 'COMBINEFUNC = ' || a.aggcombinefn::regproc::text end,
                          case when a.aggserialfn <> 0 then 'SERIALFUNC = ' || a.aggserialfn::regproc::text end,
                          case when a.aggdeserialfn <> 0 then 'DESERIALFUNC = ' || a.aggdeserialfn::regproc::text end,
                          case when a.agginitval is not null then 'INITCOND = ' || quote_literal(a.agginitval) end,
                          case when a.aggmtransfn <> 0 then 'MSFUNC = ' || a.aggmtransfn::regproc::text end,
                          case when a.aggminvtransfn <> 0 then 'MINVFUNC = ' || a.aggminvtransfn::regproc::text end,
                          case when a.aggmtranstype <> 0 then 'MSTYPE = ' || format_type(a.aggmtranstype, null) end,
                          case when a.aggmtransspace <> 0 then 'MSSPACE = ' || a.aggmtransspace end,
                          case when a.aggmfinalfn <> 0 then 'MFINALFUNC = ' || a.aggmfinalfn::regproc::text end,
                          case when a.aggmfinalextra then 'MFINALFUNC_EXTRA' end,
                          case when a.aggmfinalfn <> 0 then 'MFINALFUNC_MODIFY = ' || case a.aggmfinalmodify
                               when 'r' then 'READ_ONLY' when 's' then 'SHAREABLE' else 'READ_WRITE' end end,
                          case when a.aggminitval is not null then 'MINITCOND = ' || quote_literal(a.aggminitval) end,
                          (select 'SORTOP = OPERATOR(' || quote_ident(opn.nspname) || '.' || o.oprname || ')'
                           from pg_operator o join pg_namespace opn on opn.oid = o.oprnamespace
                           where o.oid = a.aggsortop),
                          case p.proparallel when 's' then 'PARALLEL = SAFE'
                               when 'r' then 'PARALLEL = RESTRICTED' end,
                          case when a.aggkind = 'h' then 'HYPOTHETICAL' end)
                     || ')'
              from pg_aggregate a where a.aggfnoid = p.oid)
       end as definition,
       p.provolatile as volatility, p.prosecdef as security_definer, p.proparallel as parallel,
       p.proisstrict as strict, coalesce(array(select c from unnest(p.proconfig) c where c not like 'citus.%'), '{}') as config,
       l.lanname as language
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang
where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass
                  and d.objid = p.oid and d.deptype in ('e', 'i'))  -- 'i': a range's constructors
order by 2
