select tg.oid, tg.tgrelid as table_oid, tg.tgname as name,
       pg_get_triggerdef(tg.oid) as definition, tg.tgenabled as enabled
from pg_trigger tg
join pg_class c on c.oid = tg.tgrelid
join pg_namespace n on n.oid = c.relnamespace
where not tg.tgisinternal and tg.tgparentid = 0  -- a partition's clone comes with its parent's
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass
                  and d.objid = c.oid and d.deptype = 'e')
order by 2, 3
