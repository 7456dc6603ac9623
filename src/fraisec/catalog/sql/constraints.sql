-- Table constraints (PK, UNIQUE, FK, CHECK, EXCLUDE); domain constraints live in domains.sql.
select con.oid, con.conrelid as table_oid, con.conname as name, con.contype as type,
       pg_get_constraintdef(con.oid) as definition, con.conislocal as is_local,
       con.condeferrable as deferrable, con.condeferred as deferred, con.convalidated as validated,
       con.conindid as index_oid, con.confrelid as ref_table_oid
from pg_constraint con
join pg_class c on c.oid = con.conrelid
join pg_namespace n on n.oid = c.relnamespace
where con.contype in ('p', 'u', 'f', 'c', 'x')
  and con.conparentid = 0  -- a partition's clone of its parent's constraint comes with it
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass
                  and d.objid = c.oid and d.deptype = 'e')
order by 2, 3
