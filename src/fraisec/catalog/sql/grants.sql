-- Privileges granted to others than the owner, on schemas, relations, columns, sequences, types,
-- functions, foreign-data wrappers and foreign servers. A NULL acl means the defaults (acldefault), so REVOKE from PUBLIC is visible.
with objs as (
  select 'pg_namespace'::regclass as classid, n.oid as objid, 0 as objsubid,
         coalesce(n.nspacl, acldefault('n', n.nspowner)) as acl, n.nspowner as owner,
         'n'::"char" as deftype
  from pg_namespace n
  where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  union all
  select 'pg_class'::regclass, c.oid, 0,
         coalesce(c.relacl, acldefault(case when c.relkind = 'S' then 's' else 'r' end::"char",
                                       c.relowner)), c.relowner,
         case when c.relkind = 'S' then 's' else 'r' end::"char"
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
    and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  union all
  select 'pg_class'::regclass, c.oid, a.attnum, a.attacl, c.relowner, null
  from pg_attribute a join pg_class c on c.oid = a.attrelid
  join pg_namespace n on n.oid = c.relnamespace
  where a.attacl is not null and a.attnum > 0 and not a.attisdropped
    and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  union all
  -- Enums, domains, ranges and composite types (not the row types of tables).
  select 'pg_type'::regclass, t.oid, 0, coalesce(t.typacl, acldefault('T', t.typowner)), t.typowner,
         'T'
  from pg_type t join pg_namespace n on n.oid = t.typnamespace
  left join pg_class tc on tc.oid = t.typrelid
  where (t.typtype in ('e', 'd', 'r') or (t.typtype = 'c' and tc.relkind = 'c'))
    and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  union all
  select 'pg_proc'::regclass, p.oid, 0, coalesce(p.proacl, acldefault('f', p.proowner)), p.proowner,
         'f'
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  union all
  select 'pg_foreign_data_wrapper'::regclass, w.oid, 0,
         coalesce(w.fdwacl, acldefault('F', w.fdwowner)), w.fdwowner, 'F'
  from pg_foreign_data_wrapper w
  union all
  select 'pg_foreign_server'::regclass, s.oid, 0,
         coalesce(s.srvacl, acldefault('S', s.srvowner)), s.srvowner, 'S'
  from pg_foreign_server s
)
select o.classid::regclass::text as classid, o.objid, o.objsubid,
       case when x.grantee = 0 then 'public' else pg_get_userbyid(x.grantee)::text end as grantee,
       x.privilege_type as privilege, x.is_grantable as grantable
from objs o, aclexplode(o.acl) x
where x.grantee <> o.owner
  and not exists (select 1 from pg_depend d where d.classid = o.classid and d.objid = o.objid
                  and d.deptype = 'e')
union all
-- Privileges the owner took from itself, as grantee '#owner' (owners are not compared by name).
select o.classid::regclass::text, o.objid, o.objsubid, '#owner', d.privilege_type, false
from objs o, aclexplode(acldefault(o.deftype, o.owner)) d
where o.deftype is not null and d.grantee = o.owner
  and o.acl <> acldefault(o.deftype, o.owner)
  and not exists (select 1 from aclexplode(o.acl) x
                  where x.grantee = o.owner and x.privilege_type = d.privilege_type)
  and not exists (select 1 from pg_depend e where e.classid = o.classid and e.objid = o.objid
                  and e.deptype = 'e')
order by 1, 2, 3, 4, 5
