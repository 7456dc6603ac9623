-- Columns of tables (foreign ones with their options), one row each (never one query per table).
select a.attrelid as table_oid, a.attnum as num, a.attname as name,
       format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
       case when a.attgenerated = '' then pg_get_expr(ad.adbin, ad.adrelid) end as default_expr,
       case when a.attgenerated <> '' then pg_get_expr(ad.adbin, ad.adrelid) end as generated_expr,
       a.attidentity as identity, a.attgenerated as generated,
       case when a.attcollation <> t.typcollation then a.attcollation::regcollation::text end
         as collation,
       a.attislocal as is_local, a.attinhcount as inherit_count,
       a.attstorage <> t.typstorage as storage_changed,
       case when a.attfdwoptions is not null then
         array(select array[o.option_name, o.option_value]
               from pg_options_to_table(a.attfdwoptions) o order by 1) end as fdw_options
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_type t on t.oid = a.atttypid
left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'p', 'f')
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass
                  and d.objid = c.oid and d.deptype = 'e')
order by 1, 2
