-- Row-level security policies; roles by name (roles are cluster-level, never diffed).
select pol.oid, pol.polrelid as table_oid, pol.polname as name, pol.polpermissive as permissive,
       case pol.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE'
                       when 'd' then 'DELETE' else 'ALL' end as command,
       array(select case when r = 0 then 'public' else pg_get_userbyid(r)::text end
             from unnest(pol.polroles) r order by 1) as roles,
       pg_get_expr(pol.polqual, pol.polrelid) as using_expr,
       pg_get_expr(pol.polwithcheck, pol.polrelid) as check_expr
from pg_policy pol
join pg_class c on c.oid = pol.polrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
order by 2, 3
