select e.oid, e.extname as name, n.nspname as schema, e.extversion as version,
       e.extrelocatable as relocatable
from pg_extension e join pg_namespace n on n.oid = e.extnamespace
where e.extname <> 'plpgsql'
order by 2
