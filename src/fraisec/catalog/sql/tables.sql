-- Ordinary, partitioned and foreign tables, with RLS flags, partitioning and inheritance; a
-- foreign table's server and options ([name, value] pairs).
select c.oid, n.nspname as schema, c.relname as name, c.relkind as kind,
       pg_get_userbyid(c.relowner) as owner, c.relpersistence as persistence,
       c.relrowsecurity as rls_enabled, c.relforcerowsecurity as rls_forced,
       case when c.relkind = 'p' then pg_get_partkeydef(c.oid) end as partition_key,
       case when c.relispartition then pg_get_expr(c.relpartbound, c.oid) end as partition_bound,
       coalesce(c.reloptions, '{}') as options,
       array(select i.inhparent::bigint from pg_inherits i
             where i.inhrelid = c.oid order by i.inhseqno) as parents,
       c.relispartition as is_partition, c.relreplident as replica_identity,
       fs.srvname as server,
       array(select array[o.option_name, o.option_value]
             from pg_options_to_table(ft.ftoptions) o order by 1) as fdw_options
from pg_class c join pg_namespace n on n.oid = c.relnamespace
left join pg_foreign_table ft on ft.ftrelid = c.oid
left join pg_foreign_server fs on fs.oid = ft.ftserver
where c.relkind in ('r', 'p', 'f')
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass
                  and d.objid = c.oid and d.deptype = 'e')
order by 2, 3
