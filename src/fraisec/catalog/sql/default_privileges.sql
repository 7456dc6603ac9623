-- Default privileges (ALTER DEFAULT PRIVILEGES), one row per granted privilege. A row with no
-- schema is the role's global entry: it replaces the built-in default (acldefault) for that
-- object type, so the differ compares it with acldefault when one side has none; an entry for a
-- schema adds to whatever the global one gives.
select pg_get_userbyid(d.defaclrole)::text as role, n.nspname::text as schema,
       d.defaclobjtype::text as objtype,
       case when x.grantee = 0 then 'public' else pg_get_userbyid(x.grantee)::text end as grantee,
       x.privilege_type as privilege, x.is_grantable as grantable
from pg_default_acl d
left join pg_namespace n on n.oid = d.defaclnamespace
cross join lateral aclexplode(d.defaclacl) x
union all
-- A global entry revoking everything is stored as an empty ACL: keep the entry visible.
select pg_get_userbyid(d.defaclrole)::text, null, d.defaclobjtype::text, '', '', false
from pg_default_acl d
where d.defaclnamespace = 0 and cardinality(d.defaclacl) = 0
order by 1, 2, 3, 4, 5
