from django.contrib import admin

from catalog_site.shop.models import CatalogState, Product, Review


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "weight", "image_name")
    search_fields = ("name", "description", "image_name")


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("title", "name", "date")
    list_filter = ("date",)
    search_fields = ("title", "name", "feedback")
    date_hierarchy = "date"


@admin.register(CatalogState)
class CatalogStateAdmin(admin.ModelAdmin):
    list_display = ("version", "changed")
    readonly_fields = ("version", "stamp", "changed")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
