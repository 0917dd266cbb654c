# dh_installnss(1): pgl right after files, added on configure, removed on
# remove and purge.
passwd after=files pgl
group  after=files pgl
shadow after=files pgl
